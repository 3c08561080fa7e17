/**
 * @module pages/evaluate
 */
export function EvaluatePage() {
  return <p>Coming soon.</p>;
}
