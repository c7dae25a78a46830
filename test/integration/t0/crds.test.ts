/**
 * T0: the generated kawaja.net/v1 CRDs (config/crd/) in a real API server. The Python
 * original's manifests apply unchanged; every schema rule rejects its bad input with a readable
 * message, the same one the runtime validator gives; the durations the parser accepts are
 * exactly those the API server accepts; legacy status imports through /status; status is a
 * subresource; the printer columns, short names and category are served.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiException, CustomObjectsApi, loadAllYaml, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import {
  DURATION_IS_ZERO,
  DURATION_TOO_LONG,
  durationFallbackMessage,
  NOT_A_DURATION,
  parseDuration,
} from '../../../src/api/v1/duration.ts';
import { MAX_WINDOWS, OAAT_TYPE_RULES, WINDOW_RULES } from '../../../src/api/v1/schema.ts';
import { NOT_A_TIME_OF_DAY, NOT_A_TIME_ZONE_NAME } from '../../../src/api/v1/time-of-day.ts';
import { validateGroupSpec, validateOaatType, type Problem } from '../../../src/api/v1/validation.ts';
import { ACCEPTED, ACCEPTED_QUIRKS, REJECTED, REJECTED_QUIRKS, TOO_LONG, ZERO } from '../../fixtures/duration-examples.ts';
import { apiStatus, connectCluster, loadManifests, type TestCluster } from '../../support/cluster.ts';
import { REPO_ROOT } from '../../support/control-plane.ts';
import { waitUntil } from '../../support/wait.ts';

const API = { group: 'kawaja.net', version: 'v1' } as const;
const ORIGINAL = path.join(REPO_ROOT, 'test', 'fixtures', 'original');

interface Stored extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

let cluster: TestCluster;
let namespace: string;

beforeAll(async () => {
  cluster = connectCluster('T0');
  for (const file of ['oaatgroups.kawaja.net.yaml', 'oaattypes.kawaja.net.yaml']) {
    // client-node's typed CRD model, so that its serializer keeps the x-kubernetes-* keys
    // (it drops them from a plain object, which loadManifests gives).
    for (const crd of loadAllYaml(readFileSync(path.join(REPO_ROOT, 'config', 'crd', file), 'utf8')) as KubernetesObject[]) await cluster.installCrd(crd);
  }
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('crds');
});

const plural = (kind: string): string => `${kind.toLowerCase()}s`;

/** Creates `object` in the test namespace (server-side dry run when `dryRun`) and returns what the server stored. */
async function create(object: Record<string, unknown>, dryRun = false): Promise<Stored> {
  const kind = String(object.kind);
  return (await cluster.custom.createNamespacedCustomObject({
    ...API,
    namespace,
    plural: plural(kind),
    body: { apiVersion: 'kawaja.net/v1', ...object },
    ...(dryRun && { dryRun: 'All' }),
  })) as Stored;
}

async function read(kind: string, name: string): Promise<Stored> {
  return (await cluster.custom.getNamespacedCustomObject({ ...API, namespace, plural: plural(kind), name })) as Stored;
}

/** What `kubectl patch og NAME --subresource=status --type=merge -p` sends. */
async function patchStatus(name: string, status: Record<string, unknown>): Promise<Stored> {
  return (await cluster.custom.patchNamespacedCustomObjectStatus(
    { ...API, namespace, plural: 'oaatgroups', name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as Stored;
}

/** The API server's answer to a request that must fail: its HTTP code and message. */
async function rejection(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = JSON.parse(String(error.body)) as { message?: string };
    return { code: error.code, message: body.message ?? '' };
  }
  throw new Error('the API server accepted the request');
}

const group = (spec: Record<string, unknown>, name = 'g'): Record<string, unknown> => ({ kind: 'OaatGroup', metadata: { name }, spec });
const validGroupSpec = { frequency: '5m', oaatType: 'oaattest', oaatItems: ['item1', 'item2'] };
const span = (start: string, end: string): Record<string, unknown> => ({ start: { time: start }, end: { time: end } });
const withWindows = (...windows: Record<string, unknown>[]): Record<string, unknown> => group({ ...validGroupSpec, windows });
const container = { name: 'test', image: 'busybox' };
const oaatType = (spec: unknown): Record<string, unknown> => ({ kind: 'OaatType', metadata: { name: 't' }, ...(spec === undefined ? {} : { spec }) });

describe('the CRDs', () => {
  it('are served as declared: namespaced, short names og and oat, category oaat, both with a status subresource', async () => {
    for (const name of ['oaatgroups.kawaja.net', 'oaattypes.kawaja.net']) {
      const crd = await cluster.apiextensions.readCustomResourceDefinition({ name });
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources?.status !== undefined])).toEqual([['v1', true, true, true]]);
    }
    const groups = await cluster.apiextensions.readCustomResourceDefinition({ name: 'oaatgroups.kawaja.net' });
    expect(groups.status?.acceptedNames).toMatchObject({ kind: 'OaatGroup', plural: 'oaatgroups', shortNames: ['og'], categories: ['oaat'] });
    const types = await cluster.apiextensions.readCustomResourceDefinition({ name: 'oaattypes.kawaja.net' });
    expect(types.status?.acceptedNames).toMatchObject({ kind: 'OaatType', plural: 'oaattypes', shortNames: ['oat'], categories: ['oaat'] });
    // What kubectl resolves `og`, `oat` and `oaat` with: the discovery document.
    const discovery = await cluster.kubeConfig.makeApiClient(CustomObjectsApi).getAPIResources({ group: API.group, version: API.version });
    const served = Object.fromEntries(discovery.resources.filter((r) => !r.name.includes('/')).map((r) => [r.name, { shortNames: r.shortNames, categories: r.categories }]));
    expect(served).toEqual({ oaatgroups: { shortNames: ['og'], categories: ['oaat'] }, oaattypes: { shortNames: ['oat'], categories: ['oaat'] } });
  });
});

describe("the original's manifests apply unchanged", () => {
  it.each(['manifests/sample-oaat-type.yaml', 'manifests/test-simple.yaml', 'manifests/test-noitems.yaml', 'tests/manifests/10-oaat-type.yaml'])(
    '%s',
    async (file) => {
      for (const object of loadManifests({ file: path.join(ORIGINAL, file) })) {
        const stored = await create(object as unknown as Record<string, unknown>);
        expect(stored.spec).toEqual((object as Stored).spec);
      }
    },
  );

  it('manifests/test-dynamic.yaml, its undeclared spec field pruned as under the original', async () => {
    const [object] = loadManifests({ file: path.join(ORIGINAL, 'manifests', 'test-dynamic.yaml') }) as Stored[];
    if (object === undefined) throw new Error('no manifest');
    const stored = await create(object as Record<string, unknown>);
    expect(stored.spec).toEqual({ frequency: '5m', oaatType: 'oaattest', oaatItems: ['item1', 'item2'] });
  });

  const cases = readdirSync(path.join(ORIGINAL, 'tests', 'e2e', 'cases'));
  it.each(cases)('e2e case %s, step by step as kuttl applies it (create, or merge patch when it exists)', async (name) => {
    const directory = path.join(ORIGINAL, 'tests', 'e2e', 'cases', name);
    const steps = readdirSync(directory)
      .sort()
      .map((file) => loadManifests({ file: path.join(directory, file) }))
      .filter((objects) => !objects.some((object) => object.kind === 'TestAssert'));
    const applied: Stored[] = [];
    for (const object of [...loadManifests({ file: path.join(ORIGINAL, 'tests', 'manifests', '10-oaat-type.yaml') }), ...steps.flat()]) {
      if (object.apiVersion !== 'kawaja.net/v1') continue;
      const exists = await read(object.kind ?? '', object.metadata?.name ?? '').then(
        () => true,
        (error: unknown) => {
          if (apiStatus(error) === 404) return false;
          throw error;
        },
      );
      (object.metadata ??= {}).namespace = namespace;
      applied.push(exists ? await cluster.objects.patch(object, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch) : await cluster.objects.create(object));
    }
    const groups = applied.filter((object) => object.kind === 'OaatGroup');
    const created = groups[0];
    const last = groups.at(-1);
    expect(last?.metadata?.annotations?.pause_new_jobs).toBe('true');
    expect(last?.spec).toEqual(created?.spec);
    expect(last?.spec?.oaatItems).toEqual(['item1', 'item2']);
    // The status subresource makes the main resource ignore `status`, also the seeded one.
    expect(groups.map((g) => g.status)).toEqual(groups.map(() => undefined));
  });

  it('our samples apply too', async () => {
    for (const file of ['oaattype.yaml', 'oaatgroup.yaml']) {
      for (const object of loadManifests({ file: path.join(REPO_ROOT, 'config', 'samples', file) })) {
        await expect(create(object as unknown as Record<string, unknown>)).resolves.toMatchObject({ spec: (object as Stored).spec });
      }
    }
  });
});

describe('every rule rejects its bad input with a readable message, the one the runtime validator gives', () => {
  /** [what, object, where the API server and the validator report it, what both say]. */
  const groupCases: [string, Record<string, unknown>, string, string][] = [
    ['no spec', { kind: 'OaatGroup', metadata: { name: 'g' } }, 'spec', 'Required value'],
    ['no oaatType', group({ oaatItems: ['a'] }), 'spec.oaatType', 'Required value'],
    ['an empty oaatType', group({ ...validGroupSpec, oaatType: '' }), 'spec.oaatType', ''],
    ['an oaatType of 254 characters', group({ ...validGroupSpec, oaatType: 'x'.repeat(254) }), 'spec.oaatType', ''],
    ['a fractional frequency', group({ ...validGroupSpec, frequency: '1.5h' }), 'spec.frequency', `"1.5h" ${NOT_A_DURATION}`],
    ['a zero frequency', group({ ...validGroupSpec, frequency: '0s' }), 'spec.frequency', `"0s" ${DURATION_IS_ZERO}`],
    ['a huge frequency', group({ ...validGroupSpec, frequency: '99999999999w' }), 'spec.frequency', `"99999999999w" ${DURATION_TOO_LONG}`],
    ['a frequency of 65 characters', group({ ...validGroupSpec, frequency: `5m${' '.repeat(63)}` }), 'spec.frequency', ''],
    ['a signed failureCoolOff', group({ ...validGroupSpec, failureCoolOff: '-5m' }), 'spec.failureCoolOff', `"-5m" ${NOT_A_DURATION}`],
    ['an unknown mode', group({ ...validGroupSpec, mode: 'Once' }), 'spec.mode', 'Unsupported value: "Once"'],
    ['a prediction percentile of 0', group({ ...validGroupSpec, runtimePrediction: { percentile: 0 } }), 'spec.runtimePrediction.percentile', ''],
    ['a zero default runtime', group({ ...validGroupSpec, runtimePrediction: { defaultRuntime: '0s' } }), 'spec.runtimePrediction.defaultRuntime', `"0s" ${DURATION_IS_ZERO}`],
    ['a backoff multiplier of 1', group({ ...validGroupSpec, failureBackoff: { multiplier: 1 } }), 'spec.failureBackoff.multiplier', ''],
    ['a fractional backoff multiplier', group({ ...validGroupSpec, failureBackoff: { multiplier: 1.5 } }), 'spec.failureBackoff.multiplier', ''],
    ['a zero backoff maximum', group({ ...validGroupSpec, failureBackoff: { max: '0s' } }), 'spec.failureBackoff.max', `"0s" ${DURATION_IS_ZERO}`],
    ['1001 items', group({ ...validGroupSpec, oaatItems: Array.from({ length: 1001 }, (_, i) => `i${i}`) }), 'spec.oaatItems', ''],
    ['an empty item name', group({ ...validGroupSpec, oaatItems: ['a', ''] }), 'spec.oaatItems[1]', ''],
    ['an item name of 254 characters', group({ ...validGroupSpec, oaatItems: ['i'.repeat(254)] }), 'spec.oaatItems[0]', ''],
    ['paused as a string', group({ ...validGroupSpec, paused: 'yes' }), 'spec.paused', ''],
    ['a window time 24:00', withWindows({ name: 'w', noStartItem: span('24:00', '05:00') }), 'spec.windows[0].noStartItem.start.time', `"24:00" ${NOT_A_TIME_OF_DAY}`],
    ['a window time with an offset of 15 hours', withWindows({ noRunItem: span('01:00', '05:00 +15:00') }), 'spec.windows[0].noRunItem.end.time', `"05:00 +15:00" ${NOT_A_TIME_OF_DAY}`],
    ['a window of both kinds', withWindows({ noStartItem: span('1:00', '2:00'), noRunItem: span('1:00', '2:00') }), 'spec.windows[0]', WINDOW_RULES.oneKind.message],
    ['a window of neither kind', withWindows({ name: 'w' }), 'spec.windows[0]', WINDOW_RULES.oneKind.message],
    ['stopRunning on a noStartItem window', withWindows({ noStartItem: span('1:00', '2:00'), stopRunning: true }), 'spec.windows[0]', WINDOW_RULES.stopRunningNoRun.message],
    ['a window without an end', withWindows({ noStartItem: { start: { time: '1:00' } } }), 'spec.windows[0].noStartItem.end', 'Required value'],
    ['a window start without a time', withWindows({ noStartItem: { start: {}, end: { time: '1:00' } } }), 'spec.windows[0].noStartItem.start.time', 'Required value'],
    ['a window on "monday"', withWindows({ noStartItem: span('1:00', '2:00'), days: ['monday'] }), 'spec.windows[0].days[0]', 'Unsupported value: "monday"'],
    ['a window on no days', withWindows({ noStartItem: span('1:00', '2:00'), days: [] }), 'spec.windows[0].days', ''],
    ['two windows of one name', withWindows({ name: 'w', noStartItem: span('1:00', '2:00') }, { name: 'w', noRunItem: span('3:00', '4:00') }), 'spec.windows', WINDOW_RULES.uniqueNames.message],
    [`${MAX_WINDOWS + 1} windows`, withWindows(...Array.from({ length: MAX_WINDOWS + 1 }, () => ({ noStartItem: span('1:00', '2:00') }))), 'spec.windows', ''],
    ['a window name of 64 characters', withWindows({ name: 'w'.repeat(64), noStartItem: span('1:00', '2:00') }), 'spec.windows[0].name', ''],
    ['a time zone given as an offset', group({ ...validGroupSpec, timeZone: '+10:00' }), 'spec.timeZone', `"+10:00" ${NOT_A_TIME_ZONE_NAME}`],
    ['a window time zone with blanks', withWindows({ noStartItem: span('1:00', '2:00'), timeZone: 'Europe/ Berlin' }), 'spec.windows[0].timeZone', `"Europe/ Berlin" ${NOT_A_TIME_ZONE_NAME}`],
  ];
  const typeCases: [string, Record<string, unknown>, string, string][] = [
    ['no spec', oaatType(undefined), 'spec', 'Required value'],
    ['type job', oaatType({ type: 'job', podspec: { container } }), 'spec.type', OAAT_TYPE_RULES.typeIsPod.message],
    ['no type', oaatType({ podspec: { container } }), 'spec.type', OAAT_TYPE_RULES.typeIsPod.message],
    ['no podspec', oaatType({ type: 'pod' }), 'spec.podspec', `Required value: ${OAAT_TYPE_RULES.podspecPresent.message}`],
    ['no container', oaatType({ type: 'pod', podspec: { volumes: [] } }), 'spec.podspec.container', `Required value: ${OAAT_TYPE_RULES.containerPresent.message}`],
    ['an empty container', oaatType({ type: 'pod', podspec: { container: {} } }), 'spec.podspec.container', ''],
    ['containers', oaatType({ type: 'pod', podspec: { container, containers: [container] } }), 'spec.podspec.containers', `Forbidden: ${OAAT_TYPE_RULES.noContainers.message}`],
    ['a restartPolicy', oaatType({ type: 'pod', podspec: { container, restartPolicy: 'Always' } }), 'spec.podspec.restartPolicy', `Forbidden: ${OAAT_TYPE_RULES.noRestartPolicy.message}`],
  ];

  /** Asserts that the API server refuses `object` at `where` saying `what`, and that the validator does too. */
  async function expectRejected(object: Record<string, unknown>, where: string, what: string, problems: Problem[]): Promise<void> {
    const { code, message } = await rejection(create(object, true));
    expect(code).toBe(422);
    expect(message).toContain(`${where}: `);
    expect(message).toContain(what);
    expect(problems.filter((problem) => problem.path === where)).toEqual([{ path: where, message: expect.stringContaining(what) as unknown }]);
  }

  it.each(groupCases)('OaatGroup with %s', async (_, object, where, what) => {
    await expectRejected(object, where, what, validateGroupSpec(object.spec).errors);
  });

  it.each(typeCases)('OaatType with %s', async (_, object, where, what) => {
    await expectRejected(object, where, what, validateOaatType(object));
  });

  it('the duration message names the field and the accepted format', async () => {
    const { message } = await rejection(create(group({ ...validGroupSpec, frequency: 'every hour' }), true));
    expect(message).toContain('spec.frequency: ');
    expect(message).toContain('"every hour" is not a duration: write whole numbers with a unit (s, m, h, d or w), e.g. "5m", "1h30m"');
  });

  it('the valid counterparts are accepted', async () => {
    await create(group(validGroupSpec), true);
    // The original's windows: no name, noStartItem only.
    await create(withWindows({ noStartItem: span('02:00', '05:00') }, { noStartItem: span('15:00 +10:00', '5:00 +10:00') }), true);
    await create(
      group({
        ...validGroupSpec,
        timeZone: 'America/New_York',
        windows: [
          { name: 'backup', noRunItem: span('22:00', '02:00:30'), timeZone: 'Europe/Berlin', days: ['Mon', 'Fri', 'Sun'] },
          { name: 'w'.repeat(63), noStartItem: span('0:00Z', '23:59:59 -0530') },
          ...Array.from({ length: MAX_WINDOWS - 2 }, () => ({ noStartItem: span('1:00', '2:00') })),
        ],
      }),
      true,
    );
    await create(group({ ...validGroupSpec, failureCoolOff: '0s', paused: true, oaatItems: ['a', 'a', 'i'.repeat(253)] }), true);
    await create(group({ ...validGroupSpec, failureBackoff: {}, mode: 'EachOnce' }), true);
    await create(group({ ...validGroupSpec, failureBackoff: { multiplier: 100, max: '1w' } }), true);
    await create(group({ ...validGroupSpec, runtimePrediction: { percentile: 100, marginPercent: 0, minBuffer: '0s', defaultRuntime: '30m' } }), true);
    await create(oaatType({ type: 'pod', podspec: { container, containers: [], restartPolicy: '' } }), true);
  });
});

describe('the duration rule accepts exactly what parseDuration accepts, with its message', () => {
  const texts = [...ACCEPTED.map(([text]) => text), ...ACCEPTED_QUIRKS.map(([text]) => text), ...REJECTED, ...REJECTED_QUIRKS.map(([text]) => text), ...ZERO, ...TOO_LONG];

  it.each([...new Set(texts)])('%j', async (text) => {
    const verdict = (options: { allowZero?: boolean }): string | undefined => {
      try {
        parseDuration(text, options);
        return undefined;
      } catch (error) {
        // The API server refuses a message with a line break, and says the rule's fixed message instead.
        return /[\n\r]/.test(text) ? durationFallbackMessage(options) : (error as Error).message;
      }
    };
    const frequency = verdict({});
    const coolOff = verdict({ allowZero: true });
    const request = create(group({ oaatType: 't', frequency: text, failureCoolOff: text }), true);
    if (frequency === undefined && coolOff === undefined) {
      await request;
      return;
    }
    const { message } = await rejection(request);
    for (const [field, expected] of [
      ['frequency', frequency],
      ['failureCoolOff', coolOff],
    ] as const) {
      if (expected === undefined) expect(message).not.toContain(`spec.${field}:`);
      else expect(message).toContain(expected);
    }
  });
});

describe('validation ratcheting keeps a window the original stored', () => {
  /** A copy of `crd` in a group of this test's own, so that the shared CRDs stay as they are. */
  function inTestGroup(crd: KubernetesObject, group: string): KubernetesObject {
    const copy = crd as KubernetesObject & { spec: { group: string; names: { plural: string } } };
    copy.spec.group = group;
    copy.metadata = { name: `${copy.spec.names.plural}.${group}` };
    return copy;
  }

  it('updates that leave it alone are accepted; a change to it is validated', async () => {
    const testGroup = 'ratchet.oaat.test';
    const api = { group: testGroup, version: 'v1', namespace, plural: 'oaatgroups' } as const;
    const [original] = loadManifests({ file: path.join(ORIGINAL, 'manifests', '01-oaat-operator-crd.yaml') }).filter((crd) => crd.metadata?.name === 'oaatgroups.kawaja.net');
    if (original === undefined) throw new Error("no OaatGroup CRD in the original's manifests");
    await cluster.installCrd(inTestGroup(original, testGroup));
    // What the original accepted and read as midnight, and a window without an end.
    const windows = [{ noStartItem: { start: { time: '2am' }, end: { time: '5am' } } }, { noStartItem: { start: { time: '02:00' } } }];
    await cluster.custom.createNamespacedCustomObject({
      ...api,
      body: { apiVersion: `${testGroup}/v1`, kind: 'OaatGroup', metadata: { name: 'old' }, spec: { ...validGroupSpec, windows } },
    });

    const [ours] = loadAllYaml(readFileSync(path.join(REPO_ROOT, 'config', 'crd', 'oaatgroups.kawaja.net.yaml'), 'utf8')) as KubernetesObject[];
    if (ours === undefined) throw new Error('no OaatGroup CRD in config/crd');
    await cluster.installCrd(inTestGroup(ours, testGroup));
    const mergePatch = (spec: Record<string, unknown>): Promise<Stored> =>
      cluster.custom.patchNamespacedCustomObject({ ...api, name: 'old', body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)) as Promise<Stored>;
    // Wait until the API server validates with the new schema: a new object with the same windows is refused.
    const created = (): Promise<unknown> =>
      cluster.custom.createNamespacedCustomObject({
        ...api,
        body: { apiVersion: `${testGroup}/v1`, kind: 'OaatGroup', metadata: { name: 'new' }, spec: { ...validGroupSpec, windows } },
        dryRun: 'All',
      });
    await waitUntil(() => created().then(() => 'accepted', (error: unknown) => (apiStatus(error) === 422 ? 'refused' : 'accepted')), (verdict) => verdict === 'refused', {
      what: 'the new schema to refuse the stored windows',
    });

    expect((await mergePatch({ oaatItems: ['item1', 'item2', 'item3'] })).spec?.windows).toEqual(windows);
    const { code, message } = await rejection(mergePatch({ windows: [...windows, { noStartItem: span('1:00', '2:00') }] }));
    expect(code).toBe(422);
    // A change to the (atomic) list: all of it is validated, and its missing end found.
    expect(message).toContain('spec.windows[1].noStartItem.end: Required value');
    await cluster.apiextensions.deleteCustomResourceDefinition({ name: `oaatgroups.${testGroup}` });
  });
});

describe('status', () => {
  it('imports the legacy status of the original with a merge patch of /status, dropping what is obsolete', async () => {
    await create(group(validGroupSpec));
    const legacyItem = {
      failure_count: '3',
      last_success: '2021-04-15T06:32:00+00:00',
      last_failure: '2021-04-15T07:00:00.123456+00:00',
      last_started: '2021-04-15T06:59:00.654321+00:00',
      podphase: 'Failed',
      last_verified: '2021-04-15T06:58:00+00:00',
      runtime_count: '5',
      runtime_total: '455.5',
      runtime_sum_squares: '41500.25',
      runtime_min: '90.0',
      runtime_max: '95.5',
      runtime_sample: '[90.0, 95.5]',
      runtime_last_updated: '2021-04-15T06:32:01+00:00',
    };
    const handlerStatus = { state: 'idle', loops: 12, last_run: '2021-04-15T06:59:00+00:00', children: ['3f1c2a9e-0000-4000-8000-000000000001'] };
    const patched = await patchStatus('g', {
      items: { item1: legacyItem, item2: { failure_count: 0, last_success: '2021-04-15T06:32:00+00:00' } },
      handler_status: handlerStatus,
      oaat_timer: { message: 'item item1 failed with exit code 1' },
      oaat_action: { message: 'validated' },
      find_job: 'find_job last run: ...',
      state: 'nothing to do',
    });
    expect(patched.status).toEqual({
      items: { item1: legacyItem, item2: { failure_count: 0, last_success: '2021-04-15T06:32:00+00:00' } },
      handler_status: handlerStatus,
    });
  });

  it('accepts the status this operator writes, and a merge patch null removes a key', async () => {
    await create(group(validGroupSpec));
    const status = {
      currentRun: { id: 'r1x2', item: 'item1', podName: 'g-item1-abc123-r1x2', claimedAt: '2026-01-01T00:00:00Z', trigger: 'RunNow' },
      runNow: { handled: 'item1@2026-01-01T00:00:00Z' },
      reset: { handled: '*' },
      next: { reason: 'Window', item: 'item2', at: '2026-01-01T02:00:00Z', window: 'nightly' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }],
      observedGeneration: 1,
      nextEligibleAt: '2026-01-01T01:00:00Z',
      items: {
        item2: {
          last_success: '2025-12-31T23:00:00Z',
          last_failure: '2025-12-31T22:00:00Z',
          retry_at: '2025-12-31T22:05:00Z',
          failure_count: 0,
          podphase: 'Succeeded',
          last_run: { id: 'r0', podUID: 'u0', outcome: 'Succeeded', exitCode: 0, finishedAt: '2025-12-31T23:00:00Z', trigger: 'RunNow' },
          runtime: { count: 2, total: 185.5, sumSquares: 17212.25, min: 90, max: 95.5, sample: [90, 95.5], lastUpdated: '2025-12-31T23:00:00Z' },
        },
      },
      handler_status: { state: 'running', currently_running: 'item1', pod: 'g-item1-abc123-r1x2', last_run: '2026-01-01T00:00:00Z' },
    };
    expect((await patchStatus('g', status)).status).toEqual(status);
    const closed = await patchStatus('g', { currentRun: null, nextEligibleAt: null, next: null, handler_status: { currently_running: null, pod: null } });
    expect(closed.status?.currentRun).toBeUndefined();
    expect(closed.status?.next).toBeUndefined();
    expect(closed.status?.nextEligibleAt).toBeUndefined();
    expect(closed.status?.handler_status).toEqual({ state: 'running', last_run: '2026-01-01T00:00:00Z' });
  });

  it.each([
    ['33 runtime samples', { items: { a: { runtime: { count: 33, total: 33, sumSquares: 33, min: 1, max: 1, sample: Array.from({ length: 33 }, () => 1) } } } }, 'status.items.a.runtime.sample'],
    ['an unknown outcome', { items: { a: { last_run: { id: 'r', outcome: 'Exploded', finishedAt: '2026-01-01T00:00:00Z' } } } }, 'status.items.a.last_run.outcome'],
    ['a boolean failure_count', { items: { a: { failure_count: true } } }, 'status.items.a.failure_count'],
    ['a condition status Maybe', { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] }, 'status.conditions[0].status'],
    ['two conditions of one type', { conditions: ['True', 'False'].map((s) => ({ type: 'Ready', status: s, reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' })) }, 'status.conditions[1]'],
    ['a currentRun without podName', { currentRun: { id: 'r', item: 'a', claimedAt: '2026-01-01T00:00:00Z' } }, 'status.currentRun.podName'],
  ])('rejects a status write with %s', async (_, status, where) => {
    await create(group(validGroupSpec));
    const { code, message } = await rejection(patchStatus('g', status));
    expect(code).toBe(422);
    expect(message).toContain(`${where}: `);
  });

  it('is a subresource: a main-resource write ignores status', async () => {
    const created = await create({ ...group(validGroupSpec), status: { items: { item1: { failure_count: '1' } } } });
    expect(created.status).toBeUndefined();
    await patchStatus('g', { items: { item1: { failure_count: '2' } } });
    const patched = (await cluster.custom.patchNamespacedCustomObject(
      { ...API, namespace, plural: 'oaatgroups', name: 'g', body: { spec: { paused: true }, status: { items: { item1: { failure_count: '9' } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Stored;
    expect(patched.spec?.paused).toBe(true);
    expect(patched.status).toEqual({ items: { item1: { failure_count: '2' } } });
  });
});

describe('printer columns', () => {
  interface Table {
    columnDefinitions: { name: string; type: string }[];
    rows: { cells: unknown[] }[];
  }
  const asTable = setHeaderOptions('Accept', 'application/json;as=Table;v=v1;g=meta.k8s.io');

  it('OaatGroup: Ready, State, CurrentlyRunning, Pod, LastRun, Next, Age', async () => {
    await create(group(validGroupSpec));
    await patchStatus('g', {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      handler_status: { state: 'running', currently_running: 'item1', pod: 'g-item1-abc123-r1', last_run: '2021-04-15T06:32:00Z' },
      next: { reason: 'Frequency', item: 'item2', at: '2099-01-01T00:00:00Z' },
    });
    const table = (await cluster.custom.getNamespacedCustomObject({ ...API, namespace, plural: 'oaatgroups', name: 'g' }, asTable)) as Table;
    expect(table.columnDefinitions.map((column) => [column.name, column.type])).toEqual([
      ['Name', 'string'],
      ['Ready', 'string'],
      ['State', 'string'],
      ['CurrentlyRunning', 'string'],
      ['Pod', 'string'],
      ['LastRun', 'date'],
      ['Next', 'string'],
      ['Age', 'date'],
    ]);
    const [row] = table.rows;
    expect(row?.cells.slice(0, 5)).toEqual(['g', 'True', 'running', 'item1', 'g-item1-abc123-r1']);
    // LastRun is shown as an age; Next (in the future, where an age would read "<invalid>") as its time.
    expect(row?.cells[5]).toMatch(/^\d+[smhdy]/);
    expect(row?.cells[6]).toBe('2099-01-01T00:00:00Z');
    expect(row?.cells[7]).toMatch(/^\d+[smhdy]/);
  });

  it('OaatType: Type, Age', async () => {
    await create(oaatType({ type: 'pod', podspec: { container } }));
    const table = (await cluster.custom.getNamespacedCustomObject({ ...API, namespace, plural: 'oaattypes', name: 't' }, asTable)) as Table;
    expect(table.columnDefinitions.map((column) => column.name)).toEqual(['Name', 'Type', 'Age']);
    expect(table.rows[0]?.cells.slice(0, 2)).toEqual(['t', 'pod']);
    expect(table.rows[0]?.cells[2]).toMatch(/^\d+[smhdy]/);
  });
});
