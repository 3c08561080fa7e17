/**
 * @module pages/evaluate
 * The debugger: asks `POST /flags?v=2` exactly as an SDK would (project token, distinct id,
 * person properties, groups) and shows every flag's answer, variant, payload and why. With
 * PostHog's `detailed_analysis` the server explains each condition; without it the `reason`
 * object (code, matched condition, description) is shown.
 */
import { useState } from 'preact/hooks';
import { evaluateFlags, messageOf } from '../api.ts';
import { describeValue, operatorLabel } from '../lib/operators.ts';
import { useSession } from '../session.ts';

interface ConditionAnalysis {
  index: number;
  matched?: boolean;
  properties_matched?: boolean;
  rollout_excluded?: boolean;
  rollout_percentage?: number | null;
  variant?: string | null;
  explanation?: string;
  properties?: Array<{ key: string; operator?: string; value?: unknown; actual_value?: unknown; matched?: boolean; explanation?: string }>;
}

interface FlagAnswer {
  key: string;
  enabled: boolean;
  variant: string | null;
  failed?: boolean;
  reason?: { code: string; condition_index: number | null; description: string | null };
  metadata?: { id: number; version: number; payload: string | null };
  conditions?: ConditionAnalysis[];
}

/** Reason codes whose `condition_index` names the deciding condition (others carry a placeholder). */
const NAMES_CONDITION = new Set(['condition_match', 'out_of_rollout_bound']);

interface FlagsResponse {
  flags: Record<string, FlagAnswer>;
  errorsWhileComputingFlags?: boolean;
  quotaLimited?: string[];
}

/** Parses a JSON object field; throws with the field's name. */
function objectField(label: string, text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${label}: not valid JSON.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${label}: must be a JSON object.`);
  return value as Record<string, unknown>;
}

function Conditions({ conditions }: { conditions: ConditionAnalysis[] }) {
  const label = (i: number) => (i === -1 ? 'Early access enrollment' : i === -2 ? 'Holdout' : `Condition set ${i + 1}`);
  return (
    <ol class="conditions">
      {conditions.map((c) => (
        <li key={c.index}>
          <strong class={c.matched ? 'matched' : 'unmatched'}>{label(c.index)}: {c.matched ? 'matched' : 'no match'}</strong>
          {c.explanation && <> — {c.explanation}</>}
          {c.rollout_excluded && <> (outside the {c.rollout_percentage ?? 100}% rollout)</>}
          {(c.properties ?? []).length > 0 && (
            <ul>
              {c.properties!.map((p, i) => (
                <li key={i}>
                  <span class={p.matched ? 'matched' : 'unmatched'}>{p.matched ? '✓' : '✗'}</span>{' '}
                  <code>{p.key}</code> {operatorLabel(p.operator)} {describeValue(p.value)}
                  {' '}<span class="muted">(actual: {p.actual_value === undefined || p.actual_value === null ? 'not set' : describeValue(p.actual_value)})</span>
                  {p.explanation && <> — {p.explanation}</>}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}

export function EvaluatePage() {
  const { project } = useSession();
  const [distinctId, setDistinctId] = useState('');
  const [props, setProps] = useState('');
  const [groups, setGroups] = useState('');
  const [groupProps, setGroupProps] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<FlagsResponse | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (distinctId.trim() === '') {
      setError('Enter a distinct_id.');
      return;
    }
    setBusy(true);
    try {
      const body = {
        token: project.api_token,
        distinct_id: distinctId.trim(),
        person_properties: objectField('Person properties', props),
        groups: objectField('Groups', groups),
        group_properties: objectField('Group properties', groupProps),
      };
      setResult((await evaluateFlags(body)) as FlagsResponse);
    } catch (err) {
      setResult(null);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const answers = result === null ? [] : Object.values(result.flags).sort((a, b) => a.key.localeCompare(b.key));
  return (
    <section aria-labelledby="eval-title">
      <h1 id="eval-title">Evaluate</h1>
      <p class="muted">Asks <code>POST /flags</code> as an SDK would, with this project's token; stored person and group properties are used as well.</p>
      <form onSubmit={run} noValidate class="card">
        <label for="eval-distinct-id">distinct_id</label>
        <input id="eval-distinct-id" class="mono" value={distinctId} onInput={(e) => setDistinctId((e.target as HTMLInputElement).value)} />
        <label for="eval-props">Person properties <small>(JSON object)</small></label>
        <textarea id="eval-props" placeholder='{"email": "ada@example.com"}' value={props} onInput={(e) => setProps((e.target as HTMLTextAreaElement).value)} />
        <div class="row">
          <div>
            <label for="eval-groups">Groups <small>(JSON: group type → key)</small></label>
            <textarea id="eval-groups" placeholder='{"company": "acme"}' value={groups} onInput={(e) => setGroups((e.target as HTMLTextAreaElement).value)} />
          </div>
          <div>
            <label for="eval-group-props">Group properties <small>(JSON: group type → properties)</small></label>
            <textarea id="eval-group-props" placeholder='{"company": {"plan": "enterprise"}}' value={groupProps} onInput={(e) => setGroupProps((e.target as HTMLTextAreaElement).value)} />
          </div>
        </div>
        {error !== null && <p role="alert" class="error">{error}</p>}
        <div class="actions"><button type="submit" disabled={busy}>{busy ? 'Evaluating…' : 'Evaluate'}</button></div>
      </form>
      {result !== null && (
        <>
          {result.errorsWhileComputingFlags && <p role="alert" class="error banner">Some flags could not be computed (errorsWhileComputingFlags).</p>}
          <table class="stack" aria-label="Evaluation results">
            <thead><tr><th>Flag</th><th>Answer</th><th>Payload</th><th>Why</th></tr></thead>
            <tbody>
              {answers.map((f) => (
                <tr key={f.key} data-flag={f.key}>
                  <td data-label="Flag">{f.metadata ? <a class="mono" href={`#/flags/${f.metadata.id}`}>{f.key}</a> : <code>{f.key}</code>}</td>
                  <td data-label="Answer">
                    {f.failed ? <span class="badge off">failed</span> : f.variant !== null ? <span class="badge on">variant {f.variant}</span> : <span class={`badge ${f.enabled ? 'on' : 'off'}`}>{f.enabled ? 'true' : 'false'}</span>}
                  </td>
                  <td data-label="Payload">{f.metadata?.payload ? <code>{f.metadata.payload}</code> : <span class="muted">—</span>}</td>
                  <td data-label="Why">
                    {f.reason ? <>{f.reason.description ?? f.reason.code} <small class="mono">{f.reason.code}{f.reason.condition_index !== null && NAMES_CONDITION.has(f.reason.code) ? ` · condition ${f.reason.condition_index + 1}` : ''}</small></> : '—'}
                    {f.conditions && f.conditions.length > 0 && (
                      <details>
                        <summary>Each condition</summary>
                        <Conditions conditions={f.conditions} />
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {answers.length === 0 && <p>No active flags in this project.</p>}
        </>
      )}
    </section>
  );
}
