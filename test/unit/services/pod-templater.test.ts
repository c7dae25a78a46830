import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../../../src/api/v1/keys.ts';
import { podName } from '../../../src/api/v1/naming.ts';
import type { OaatGroup, OaatType } from '../../../src/api/v1/types.ts';
import { validateOaatType } from '../../../src/api/v1/validation.ts';
import { containerProblems, renderPod } from '../../../src/services/pod-templater.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const group: OaatGroup = {
  apiVersion: 'kawaja.net/v1',
  kind: 'OaatGroup',
  metadata: { name: 'nightly', namespace: 'team-a', uid: '0b7e3b52-6f4c-4f3e-9a53-3f0a4e8f2c11', labels: { team: 'backup', app: 'theirs' } },
  spec: { oaatType: 'backup', oaatItems: ['item1'] },
};

function oaatType(podspec: Record<string, unknown>, type = 'pod'): OaatType {
  return { apiVersion: 'kawaja.net/v1', kind: 'OaatType', metadata: { name: 'backup', namespace: 'team-a' }, spec: { type, podspec } };
}

const template = oaatType({
  container: {
    name: 'test',
    image: 'busybox:%%oaat_item%%',
    workingDir: '/{{oaat_item}}',
    command: ['sh', '-c', '%%oaat_item%%', 'abc%%oaat_item%%def'],
    args: ['--one', '--two', '%%oaat_item%%', 'x{{oaat_item}}y{{oaat_item}}z'],
    env: [
      { name: 'first', value: '%%oaat_item%%' },
      { name: 'second', value: 'plain' },
      { name: 'both', value: '%%oaat_item%%/{{oaat_item}}' },
      { name: 'secret', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ],
    resources: { limits: { cpu: '100m' } },
  },
  volumes: [{ name: 'data', emptyDir: {} }],
  nodeSelector: { disk: 'ssd' },
  serviceAccountName: 'runner',
  securityContext: { runAsNonRoot: true },
});

function render(item: string, type: OaatType = template, owner: OaatGroup = group, runId = 'r1a2b3c4'): V1Pod {
  const result = renderPod({ type, group: owner, item, runId, restrictions: new Set() });
  if (!result.ok) throw new Error(`expected a pod, got: ${result.error}`);
  return result.pod;
}

function containerOf(pod: V1Pod): V1Container {
  const [container, ...others] = pod.spec?.containers ?? [];
  if (container === undefined || others.length > 0) throw new Error('expected exactly one container');
  return container;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('renderPod: the pod (original-spec.md §2.3)', () => {
  it('is a Pod in the group namespace, named for the run, owned by the group', () => {
    const pod = render('item1');
    expect(pod.apiVersion).toBe('v1');
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata?.name).toBe(podName('nightly', 'item1', 'r1a2b3c4'));
    expect(pod.metadata?.namespace).toBe('team-a');
    expect(pod.metadata?.ownerReferences).toEqual([
      { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', name: 'nightly', uid: group.metadata?.uid, controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('carries the group labels, then ours, which win', () => {
    expect(render('item1').metadata?.labels).toEqual({
      team: 'backup',
      [LABELS.app]: 'oaat-operator',
      [LABELS.parentName]: 'nightly',
      [LABELS.itemName]: 'item1',
      [LABELS.runId]: 'r1a2b3c4',
    });
  });

  it('works for a group without labels', () => {
    const bare: OaatGroup = { ...group, metadata: { name: 'g', namespace: 'n', uid: 'u' } };
    expect(Object.keys(render('item1', template, bare).metadata?.labels ?? {}).sort()).toEqual(
      [LABELS.app, LABELS.itemName, LABELS.parentName, LABELS.runId].sort(),
    );
  });

  it('records the true item name in an annotation', () => {
    expect(render('Some Item/with slashes').metadata?.annotations).toEqual({ [ANNOTATIONS.item]: 'Some Item/with slashes' });
  });

  it('has exactly one container, restartPolicy Never, and every other podspec key copied', () => {
    const pod = render('item1');
    expect(containerOf(pod).name).toBe('test');
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Never',
      volumes: [{ name: 'data', emptyDir: {} }],
      nodeSelector: { disk: 'ssd' },
      serviceAccountName: 'runner',
      securityContext: { runAsNonRoot: true },
    });
    expect(pod.spec).not.toHaveProperty('container');
    expect(containerOf(pod).resources).toEqual({ limits: { cpu: '100m' } });
  });

  it('drops empty containers and restartPolicy keys (allowed, as in the original and the schema)', () => {
    const pod = render('item1', oaatType({ container: { name: 'c', image: 'i' }, containers: [], restartPolicy: '' }));
    expect(pod.spec?.restartPolicy).toBe('Never');
    expect(pod.spec?.containers).toHaveLength(1);
  });
});

describe('renderPod: substitution', () => {
  it('replaces %%oaat_item%% in command, args and env values, also inside strings (the original cases)', () => {
    const container = containerOf(render('item1'));
    expect(container.command).toEqual(['sh', '-c', 'item1', 'abcitem1def']);
    expect(container.args?.slice(0, 3)).toEqual(['--one', '--two', 'item1']);
    expect(container.env?.find((e) => e.name === 'first')?.value).toBe('item1');
    expect(container.env?.find((e) => e.name === 'second')?.value).toBe('plain');
  });

  it('replaces {{oaat_item}} too, every occurrence, both tokens in one string', () => {
    const container = containerOf(render('item1'));
    expect(container.args?.[3]).toBe('xitem1yitem1z');
    expect(container.env?.find((e) => e.name === 'both')?.value).toBe('item1/item1');
  });

  it('substitutes nothing else (image, workingDir)', () => {
    const container = containerOf(render('item1'));
    expect(container.image).toBe('busybox:%%oaat_item%%');
    expect(container.workingDir).toBe('/{{oaat_item}}');
  });

  it('inserts the item name literally, even when it looks like a replacement pattern or a token', () => {
    const item = "$& $1 $' %%oaat_item%% {{oaat_item}}";
    expect(containerOf(render(item)).command?.[2]).toBe(item);
  });

  it('keeps env entries without a value as they are', () => {
    const secret = containerOf(render('item1')).env?.find((e) => e.name === 'secret');
    expect(secret).toEqual({ name: 'secret', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
  });

  it('handles absent command, args and env, and env: null', () => {
    for (const container of [{ name: 'c', image: 'i' }, { name: 'c', image: 'i', env: null, command: null, args: null }]) {
      const rendered = containerOf(render('item1', oaatType({ container })));
      expect(rendered.env).toEqual([{ name: 'OAAT_ITEM', value: 'item1' }]);
      expect(rendered.command ?? undefined).toBeUndefined();
    }
  });
});

describe('renderPod: OAAT_ITEM', () => {
  it('is always set, last', () => {
    expect(containerOf(render('item1')).env?.at(-1)).toEqual({ name: 'OAAT_ITEM', value: 'item1' });
  });

  it('replaces an OAAT_ITEM the template sets, so there is exactly one', () => {
    const type = oaatType({ container: { name: 'c', image: 'i', env: [{ name: 'OAAT_ITEM', value: 'theirs' }, { name: 'other', value: 'x' }] } });
    expect(containerOf(render('item1', type)).env).toEqual([
      { name: 'other', value: 'x' },
      { name: 'OAAT_ITEM', value: 'item1' },
    ]);
  });
});

describe('renderPod: inputs', () => {
  it('never mutates its inputs (they may be frozen cache objects)', () => {
    const type = deepFreeze(structuredClone(template));
    const owner = deepFreeze(structuredClone(group));
    const before = JSON.stringify([type, owner]);
    render('item1', type, owner);
    expect(JSON.stringify([type, owner])).toBe(before);
  });

  it('shares no object with its inputs', () => {
    const type = structuredClone(template);
    const pod = render('item1', type);
    pod.spec?.volumes?.push({ name: 'extra' });
    containerOf(pod).env?.push({ name: 'extra' });
    if (pod.spec?.nodeSelector) pod.spec.nodeSelector.disk = 'hdd';
    expect(type).toEqual(template);
  });

  it('rejects a malformed run id and a group without identity (caller bugs)', () => {
    expect(() => render('item1', template, group, 'Not-OK')).toThrow(RangeError);
    expect(() => render('item1', template, group, '')).toThrow(RangeError);
    expect(() => render('item1', template, { ...group, metadata: { name: 'g', namespace: 'n' } })).toThrow(TypeError);
  });
});

describe('renderPod: arbitrary item names', () => {
  const items = [
    'item1',
    'Item1',
    'ITEM1',
    'a/b',
    'a b',
    'a-b',
    'a_b',
    'a.b',
    'A-B',
    '-a-',
    '.hidden',
    'with space and UPPER',
    's3://bucket/path/to/object.tar.gz',
    'üñíçødé',
    '日本語',
    '%%oaat_item%%',
    'x'.repeat(63),
    'x'.repeat(64),
    'y'.repeat(253),
    `${'z'.repeat(252)}/`,
    `${'z'.repeat(252)} `,
    ...Array.from({ length: 200 }, (_, i) => `host-${i}.example.com/share ${i % 7}`),
  ];

  it('gives valid pod names (DNS-1123 labels, at most 63 characters) and valid label values', () => {
    const longGroup: OaatGroup = { ...group, metadata: { name: `${'g'.repeat(120)}.${'h'.repeat(120)}`, namespace: 'team-a', uid: 'u-long' } };
    for (const owner of [group, longGroup]) {
      for (const item of items) {
        const metadata = render(item, template, owner).metadata ?? {};
        expect(metadata.name?.length).toBeLessThanOrEqual(63);
        expect(metadata.name).toMatch(DNS_LABEL);
        for (const value of Object.values(metadata.labels ?? {})) {
          expect(value.length).toBeLessThanOrEqual(63);
          expect(value).toMatch(LABEL_VALUE);
        }
        expect(metadata.annotations?.[ANNOTATIONS.item]).toBe(item);
        expect(containerOf(render(item, template, owner)).env?.at(-1)?.value).toBe(item);
      }
    }
  });

  it('gives distinct pod names and item labels to distinct items', () => {
    const pods = items.map((item) => render(item));
    expect(new Set(pods.map((pod) => pod.metadata?.name)).size).toBe(items.length);
    expect(new Set(pods.map((pod) => pod.metadata?.labels?.[LABELS.itemName])).size).toBe(items.length);
  });

  it('keeps a valid label value as the label itself', () => {
    expect(render('Item_1.a-b').metadata?.labels?.[LABELS.itemName]).toBe('Item_1.a-b');
  });
});

describe('renderPod: pod restrictions', () => {
  it('refuses the pod of an OaatType using a refused feature, naming each, and renders it when nothing refuses it', () => {
    const result = renderPod({ type: template, group, item: 'a', runId: 'abc', restrictions: new Set(['serviceAccount', 'hostPath']) });
    expect(result).toEqual({ ok: false, error: 'spec.podspec.serviceAccountName: service account "runner", not the namespace\'s default: refused by this operator (pod restriction serviceAccount)' });
    expect(renderPod({ type: template, group, item: 'a', runId: 'abc', restrictions: new Set(['hostNamespaces', 'hostPath']) }).ok).toBe(true);
  });
});

describe('renderPod: invalid OaatTypes', () => {
  const withSpec = (spec: unknown): OaatType => ({ apiVersion: 'kawaja.net/v1', kind: 'OaatType', metadata: { name: 't' }, spec }) as OaatType;
  const container = { name: 'test', image: 'busybox' };
  const renderError = (type: OaatType): string => {
    const result = renderPod({ type, group, item: 'item1', runId: 'abc', restrictions: new Set() });
    if (result.ok) throw new Error('expected an error');
    return result.error;
  };

  it.each<[string, unknown]>([
    ['no spec', undefined],
    ['type Pod (case-sensitive)', { type: 'Pod', podspec: { container } }],
    ['podspec: null', { type: 'pod', podspec: null }],
    ['containers', { type: 'pod', podspec: { containers: [container] } }],
    ['an empty container', { type: 'pod', podspec: { container: {} } }],
    ['a restartPolicy', { type: 'pod', podspec: { container, restartPolicy: 'Always' } }],
  ])('reports the OaatType validation problems (validation.ts) for %s', (_, spec) => {
    const type = withSpec(spec);
    const problems = validateOaatType(type);
    expect(problems.length).toBeGreaterThan(0);
    expect(renderError(type)).toBe(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a number in command', { command: ['sh', 5] }, 'spec.podspec.container.command[1]: must be a string, got 5'],
    ['a command that is a string', { command: 'sh -c x' }, 'spec.podspec.container.command: must be a list of strings'],
    ['an object in args', { args: [{ a: 1 }] }, 'spec.podspec.container.args[0]: must be a string, got {"a":1}'],
    ['env that is not a list', { env: { A: '1' } }, 'spec.podspec.container.env: must be a list'],
    ['an env entry without a name', { env: [{ value: '1' }] }, 'spec.podspec.container.env[0]: must have a string name'],
    ['a number env value', { env: [{ name: 'A', value: 1 }] }, 'spec.podspec.container.env[0].value: must be a string'],
    ['several problems', { command: [1], args: [true] }, 'spec.podspec.container.command[0]: must be a string, got 1; spec.podspec.container.args[0]: must be a string, got true'],
  ])('reports %s (the original crashed) with a clear message, never a throw', (_, fields, error) => {
    const type = withSpec({ type: 'pod', podspec: { container: { ...container, ...fields } } });
    expect(renderError(type)).toBe(error);
    expect(containerProblems(type).map((p) => `${p.path}: ${p.message}`).join('; ')).toBe(error);
  });

  it('finds no container problems in a valid OaatType, or where there is no container to check', () => {
    expect(containerProblems(template)).toEqual([]);
    expect(containerProblems(withSpec({ type: 'pod', podspec: { container: { ...container, env: null, command: null, args: null } } }))).toEqual([]);
    expect(containerProblems(withSpec(undefined))).toEqual([]);
    expect(containerProblems(withSpec({ type: 'pod', podspec: { container: 'x' } }))).toEqual([]);
  });
});
