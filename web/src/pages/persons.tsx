/**
 * @module pages/persons
 */
export function PersonsPage() {
  return <p>Coming soon.</p>;
}
