/**
 * @module pages/keys
 */
export function KeysPage() {
  return <p>Coming soon.</p>;
}
