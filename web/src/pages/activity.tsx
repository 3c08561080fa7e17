export function ActivityPage(_: { flagId: string | undefined }) {
  return <p>Coming soon.</p>;
}
