/**
 * @module pages/cohorts-list
 */
export function CohortsList() {
  return <p>Coming soon.</p>;
}
