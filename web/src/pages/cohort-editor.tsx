export function CohortEditor(_: { id: string }) {
  return <p>Coming soon.</p>;
}
