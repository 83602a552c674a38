import { readdirSync, readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, type IContainer } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { haproxyConfig, HEALTH_CHECK, REPLICA_DRAIN_DELAY_MS } from '../deploy/cluster/haproxy.js';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.js';

// The deployment files, checked offline: every manifest against the Kubernetes
// schema of its kind, and against each other and the code (ports, probe paths,
// shutdown timing, variable names), so they cannot drift apart unnoticed.

const MANIFESTS = new URL('../deploy/kubernetes/', import.meta.url);
/** Slack between the gateway's own shutdown bound and the kubelet's SIGKILL. */
const GRACE_MARGIN_S = 5;

const MODELS = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
} as const;

type Manifest = {
  file: string;
  kind: string;
  model: InstanceType<(typeof MODELS)[keyof typeof MODELS]>;
};

const manifests = loadManifests();
const deployment = only(Deployment);
const configMap = only(ConfigMap);
const secret = only(Secret);
const service = only(Service);
const hpa = only(HorizontalPodAutoscaler);
const pdb = only(PodDisruptionBudget);
const pod = defined(deployment.spec?.template, 'the Deployment has no pod template');
const container = defined(pod.spec?.containers[0], 'the Deployment has no container');
const settings = defined(configMap.data, 'the ConfigMap has no data');
const secretValues = secretData(secret);

describe('Kubernetes manifests', () => {
  it.each(manifests.map(({ file, kind, model }) => [file, kind, model] as const))(
    '%s (%s) is valid against the Kubernetes schema',
    (_file, _kind, model) => {
      expect(() => model.validate()).not.toThrow();
    },
  );

  it('rejects a manifest the Kubernetes schema does not allow (the check above is live)', () => {
    const broken = structuredClone(deployment.toJSON());
    broken.spec.template.spec.containers[0].ports[0].containerPort = '4000';

    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
  });

  it('probes the gateway’s own endpoints: readiness on /ready, liveness and startup on /health', () => {
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health');
    expect(container.startupProbe?.httpGet?.path).toBe('/health');
  });

  it('probes, exposes and routes to the port the ConfigMap tells the gateway to listen on', () => {
    const port = Number(settings.PORT);
    const probes = [container.readinessProbe, container.livenessProbe, container.startupProbe];

    expect(containerPort(container, 'http')).toBe(port);
    for (const probe of probes) {
      expect(containerPort(container, probe?.httpGet?.port)).toBe(port);
    }
    for (const servicePort of service.spec?.ports ?? []) {
      expect(containerPort(container, servicePort.targetPort)).toBe(port);
    }
  });

  it('exposes metrics on their own port to scrapers, never through the Service', () => {
    const metricsPort = Number(settings.METRICS_PORT);
    expect(containerPort(container, 'metrics')).toBe(metricsPort);
    expect(deployment.spec?.template.metadata?.annotations?.['prometheus.io/port']).toBe(
      String(metricsPort),
    );
    for (const servicePort of service.spec?.ports ?? []) {
      expect(containerPort(container, servicePort.targetPort)).not.toBe(metricsPort);
    }
  });

  it('gives a pod enough grace to sleep, drain and finish in-flight requests before SIGKILL', () => {
    // The grace period counts from the preStop hook, not from SIGTERM.
    const needed =
      preStopSleepSeconds() +
      (Number(settings.DRAIN_DELAY_MS) + Number(settings.SHUTDOWN_TIMEOUT_MS)) / 1000 +
      GRACE_MARGIN_S;

    expect(pod.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
  });

  it('marks a draining pod unready before its drain delay ends and the server stops accepting', () => {
    const probe = defined(container.readinessProbe, 'no readiness probe');
    // Worst case: the 503 starts just after a probe, then `failureThreshold` probes fail.
    const noticedWithinS =
      (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) + (probe.timeoutSeconds ?? 1);

    expect(preStopSleepSeconds()).toBeGreaterThanOrEqual(0);
    expect(noticedWithinS * 1000).toBeLessThanOrEqual(Number(settings.DRAIN_DELAY_MS));
  });

  it('sets only environment variables the gateway reads', () => {
    const names = [
      ...Object.keys(settings),
      ...Object.keys(secretValues),
      ...(container.env ?? []).map((variable) => variable.name),
    ];
    const known = new Set(CONFIG_VARIABLES);

    expect(names.filter((name) => !known.has(name))).toEqual([]);
  });

  it('configures a gateway that starts, once the example Secret holds a real JWT secret', () => {
    const config = loadConfig({
      ...settings,
      ...secretValues,
      JWT_SECRET: 'a-real-secret-from-the-secret-manager-0123456789',
    });

    expect(config.port).toBe(Number(settings.PORT));
    expect(config.production).toBe(true);
    expect(config.upstreamUrls).not.toBeNull();
    expect(config.drainDelayMs).toBe(Number(settings.DRAIN_DELAY_MS));
  });

  it('cannot be deployed with the example Secret unchanged: the gateway refuses its JWT secret', () => {
    expect(() => loadConfig({ ...settings, ...secretValues })).toThrow(ConfigError);
    expect(() => loadConfig({ ...settings, ...secretValues })).toThrow(/JWT_SECRET/);
  });

  it('gives the pod its settings from this ConfigMap and this Secret', () => {
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata?.name } },
      { secretRef: { name: secret.metadata?.name } },
    ]);
  });

  it('runs as a non-root user the kubelet can verify, read-only, without privileges', () => {
    const podSecurity = pod.spec?.securityContext;
    const security = container.securityContext;
    // The image's USER is a name (node), so runAsNonRoot needs a numeric uid here.
    const uid = security?.runAsUser ?? podSecurity?.runAsUser;

    expect(security?.runAsNonRoot ?? podSecurity?.runAsNonRoot).toBe(true);
    expect(uid).toBeGreaterThan(0);
    expect(security?.readOnlyRootFilesystem).toBe(true);
    expect(security?.allowPrivilegeEscalation).toBe(false);
    expect(security?.capabilities?.drop).toEqual(['ALL']);
  });

  it('requests CPU (the HPA’s utilisation is a share of it) and bounds CPU and memory', () => {
    const { requests, limits } = container.resources ?? {};

    expect(requests?.cpu).toBeDefined();
    expect(requests?.memory).toBeDefined();
    expect(limits?.cpu).toBeDefined();
    expect(limits?.memory).toBeDefined();
    expect(hpa.spec?.metrics?.map((metric) => metric.resource?.name)).toEqual(['cpu']);
  });

  it('autoscales this Deployment, from its replica count, never down to the disruption floor', () => {
    const spec = defined(hpa.spec, 'the HPA has no spec');
    const replicas = defined(deployment.spec?.replicas, 'the Deployment sets no replicas');
    const minReplicas = spec.minReplicas ?? 1;
    // What a node drain may leave serving at the HPA's minimum.
    const leftServing =
      pdb.spec?.maxUnavailable !== undefined
        ? minReplicas - Number(pdb.spec.maxUnavailable)
        : Number(pdb.spec?.minAvailable);

    expect(spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: deployment.kind,
      name: deployment.metadata?.name,
    });
    expect(replicas).toBeGreaterThanOrEqual(minReplicas);
    expect(replicas).toBeLessThanOrEqual(spec.maxReplicas);
    expect(leftServing).toBeGreaterThanOrEqual(2);
    expect(leftServing).toBeLessThan(minReplicas);
  });

  it('selects the Deployment’s pods, and only by labels they carry, in the Deployment, Service and PDB', () => {
    const labels = pod.metadata?.labels ?? {};
    const selectors = {
      deployment: deployment.spec?.selector.matchLabels,
      service: service.spec?.selector,
      pdb: pdb.spec?.selector?.matchLabels,
    };

    for (const [owner, selector] of Object.entries(selectors)) {
      expect(Object.keys(selector ?? {}), `the ${owner} selects by no label`).not.toEqual([]);
      expect(labels, `the ${owner} selects labels the pods lack`).toMatchObject(selector ?? {});
    }
  });
});

describe('the container image', () => {
  const dockerfile = instructions(read('Dockerfile'));
  const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

  it('runs what `npm start` runs, as the unprivileged node user, on the configured port', () => {
    expect(last(dockerfile, 'CMD')).toBe('["node", "dist/main.js"]');
    expect(packageJson.scripts.start).toMatch(/&& node dist\/main\.js$/);
    expect(last(dockerfile, 'USER')).toBe('node');
    expect(last(dockerfile, 'EXPOSE')).toBe(settings.PORT);
    expect(all(dockerfile, 'EXPOSE')).toContain(settings.METRICS_PORT);
    expect(all(dockerfile, 'ENV')).toContain('NODE_ENV=production');
  });

  it('builds in one stage and runs from a second on the same base with production dependencies only', () => {
    const stages = all(dockerfile, 'FROM');

    expect(stages).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
    expect(all(dockerfile, 'RUN').at(-1)).toMatch(/^npm ci --omit=dev /);
  });

  it('has in its build context every file the Dockerfile copies, and nothing else', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const copied = all(dockerfile, 'COPY')
      .filter((args) => !args.startsWith('--from='))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));

    expect(read('.dockerignore').split('\n')).toContain('*');
    expect([...new Set(copied)].sort()).toEqual([...allowed].sort());
  });
});

describe('the local cluster (npm run cluster)', () => {
  it('has HAProxy take a draining replica out before the replica stops accepting', () => {
    const config = haproxyConfig({ port: 4000, statsPort: 4001, replicaPorts: [4002, 4003] });
    const { intervalMs, fall } = HEALTH_CHECK;

    expect(config).toContain('http-check send meth GET uri /ready');
    expect(config).toContain(`default-server inter ${intervalMs}ms fall ${fall}`);
    // One interval for the check in flight when the drain starts, then `fall` failures.
    expect(intervalMs * (fall + 1)).toBeLessThanOrEqual(REPLICA_DRAIN_DELAY_MS);
  });

  it('balances every replica, round-robin, on loopback only', () => {
    const config = haproxyConfig({ port: 4000, statsPort: 4001, replicaPorts: [4002, 4003, 4004] });

    expect(config).toContain('balance roundrobin');
    expect(config.match(/^ {2}server .* check$/gm)).toEqual([
      '  server gateway-1 127.0.0.1:4002 check',
      '  server gateway-2 127.0.0.1:4003 check',
      '  server gateway-3 127.0.0.1:4004 check',
    ]);
    expect(config.match(/^ {2}bind .*$/gm)).toEqual([
      '  bind 127.0.0.1:4000',
      '  bind 127.0.0.1:4001',
    ]);
  });
});

// Private helpers.

/** Every document of every YAML file in deploy/kubernetes, as its kind's model. */
function loadManifests(): Manifest[] {
  const files = readdirSync(MANIFESTS)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, MANIFESTS), 'utf8')).map((document) => {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      }
      const data = document.toJS() as { apiVersion?: string; kind?: string };
      const kind = `${data.apiVersion}/${data.kind}`;
      const Model = MODELS[kind as keyof typeof MODELS];
      if (!Model) {
        throw new Error(
          `${file}: no schema for ${kind}; expected one of ${Object.keys(MODELS).join(', ')}`,
        );
      }
      // Seam: the YAML is untyped until the model validates it.
      return { file, kind: String(data.kind), model: new Model(data as never) };
    }),
  );
}

/** The one manifest of a kind; two would make the checks above ambiguous. */
function only<T>(Model: new (...args: never[]) => T): T {
  const found = manifests.filter(({ model }) => model instanceof Model).map(({ model }) => model);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${Model.name} in deploy/kubernetes, got ${found.length}`);
  }
  return found[0] as T;
}

/** A Secret's values, from `stringData` or base64 `data`. */
function secretData(s: Secret): Record<string, string> {
  const decoded = Object.entries(s.data ?? {}).map(([name, value]) => [
    name,
    Buffer.from(value, 'base64').toString('utf8'),
  ]);
  return { ...Object.fromEntries(decoded), ...s.stringData };
}

/** The container port a probe or Service names, by number or by port name. */
function containerPort(c: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function preStopSleepSeconds(): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  if (command[0] === 'sleep') return Number(command[1]);
  return 0;
}

function defined<T>(value: T | undefined | null, problem: string): T {
  if (value === undefined || value === null) throw new Error(problem);
  return value;
}

function read(path: string): string {
  return readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
}

/** A Dockerfile's instructions as [keyword, arguments], continuation lines joined. */
function instructions(text: string): Array<[string, string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

function all(parsed: Array<[string, string]>, keyword: string): string[] {
  return parsed.filter(([k]) => k === keyword).map(([, args]) => args);
}

function last(parsed: Array<[string, string]>, keyword: string): string | undefined {
  return all(parsed, keyword).at(-1);
}
