/**
 * @module bench/peers/posthog-node
 * posthog-node's local evaluation of the 50-flag project, in-process, fed by a fake `fetch`.
 */
import { PostHog } from 'posthog-node';
import type { ProjectDefs } from '../../src/engine/index.ts';
import { toLocalEvaluationBody, type BenchUser } from '../fixtures/fifty-flag-project.ts';
import { packageVersion, type FlagValue, type Peer } from './peer.ts';

/**
 * Builds a posthog-node client whose only "server" is a fetch function answering
 * `GET /flags/definitions` with the project's local-evaluation body (spec §7.2), so no socket
 * is ever opened. Polling is pushed out to 10^9 ms.
 *
 * Timed path: `client.getAllFlags(distinctId, { personProperties, onlyEvaluateLocally: true })`,
 * the public API. There is no synchronous path to reach instead: the poller's
 * `computeFlagAndPayloadLocally` and every hash (`crypto.subtle.digest('SHA-1')`) are async, and
 * `getAllFlags` is a thin wrapper over `poller.getAllFlagsAndPayloads`.
 */
export async function createPosthogNodePeer(defs: ProjectDefs): Promise<Peer> {
  const body = JSON.stringify(toLocalEvaluationBody(defs));
  let definitionRequests = 0;
  const fakeFetch = async (url: string): Promise<Response> => {
    if (!url.includes('/flags/definitions')) throw new Error(`unexpected request in benchmark: ${url}`);
    definitionRequests++;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new PostHog('phc_bench', {
    personalApiKey: 'phx_bench',
    host: 'http://127.0.0.1:9',
    featureFlagsPollingInterval: 10 ** 9,
    fetch: fakeFetch as never,
    disableGeoip: true,
  });
  client.on('error', (err: unknown) => {
    throw new Error(`posthog-node reported an error during the benchmark: ${String(err)}`);
  });
  const ready = await client.waitForLocalEvaluationReady(5_000);
  if (!ready || definitionRequests !== 1) throw new Error('posthog-node did not load the fake definitions');

  const options = (user: BenchUser) => ({ personProperties: user.properties, onlyEvaluateLocally: true });
  return {
    name: `posthog-node ${packageVersion('posthog-node')}`,
    path: 'await client.getAllFlags(id, {personProperties, onlyEvaluateLocally: true})',
    async: true,
    evaluate: (user) => client.getAllFlags(user.distinctId, options(user)),
    async values(user) {
      return (await client.getAllFlags(user.distinctId, options(user))) as Record<string, FlagValue>;
    },
    close: () => client.shutdown(1_000),
  };
}
