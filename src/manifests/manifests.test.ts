import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IPodSpec } from 'kubernetes-models/v1';
import { parseAllDocuments, stringify } from 'yaml';
import { envDiff } from '../environments/index.ts';
import { startService } from '../service/index.ts';
import { BUNDLED_RULESETS, projectRoot, runEntitle, testDatabases } from '../testing/index.ts';
import {
  CANARY_METRICS,
  configDigest,
  OVERLAY_SPECS,
  overlayConfig,
  OVERLAYS,
  SECRET_KEYS,
  writeManifests,
  type Overlay,
} from './index.ts';

const run = promisify(execFile);

/** The schema of every kind the manifests may hold; anything else fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'argoproj.io/v1alpha1/Rollout': Rollout,
  'argoproj.io/v1alpha1/AnalysisTemplate': AnalysisTemplate,
};

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** kubectl's built-in kustomize: the same build `kubectl apply -k` does. */
async function kustomize(overlay: Overlay): Promise<Doc[] | undefined> {
  try {
    const { stdout } = await run('kubectl', ['kustomize', join(projectRoot, 'deploy/k8s/overlays', overlay)], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return parseAllDocuments(stdout).map((d) => d.toJSON() as Doc);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.env.CI !== 'true') return undefined;
    throw error;
  }
}

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  assert.ok(Model, `no schema for ${doc.apiVersion} ${doc.kind}: add its model`);
  new Model(doc as never).validate();
}

const find = (docs: Doc[], kind: string, name?: string) =>
  docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));

/** Every pod spec in a build: the Rollout's, the migration Job's and the smoke analysis Job's. */
function podSpecs(docs: Doc[]): { where: string; spec: IPodSpec }[] {
  const out: { where: string; spec: IPodSpec }[] = [];
  for (const d of docs.filter((doc) => doc.spec !== undefined)) {
    const spec = d.spec as Record<string, unknown> & {
      template?: { spec: IPodSpec };
      metrics?: { provider: { job?: { spec: { template: { spec: IPodSpec } } } } }[];
      jobTemplate?: { spec: { template: { spec: IPodSpec } } };
    };
    if (d.kind === 'Rollout' || d.kind === 'Job')
      out.push({ where: `${d.kind}/${d.metadata.name}`, spec: spec.template!.spec });
    if (d.kind === 'CronJob')
      out.push({ where: `${d.kind}/${d.metadata.name}`, spec: spec.jobTemplate!.spec.template.spec });
    if (d.kind === 'AnalysisTemplate')
      for (const metric of spec.metrics ?? [])
        if (metric.provider.job)
          out.push({ where: `${d.kind}/${d.metadata.name}`, spec: metric.provider.job.spec.template.spec });
  }
  return out;
}

/** The pod template of the smoke analysis Job. */
function analysisJob(docs: Doc[]): { metadata?: { labels?: Record<string, string> } } | undefined {
  const smoke = find(docs, 'AnalysisTemplate', 'entitle-canary-smoke')[0] as unknown as AnalysisTemplate | undefined;
  return smoke?.spec.metrics[0]?.provider.job?.spec.template;
}

describe('Kubernetes manifests', () => {
  it('are committed exactly as the models generate them (run "entitle deploy manifests")', async () => {
    assert.deepEqual((await writeManifests(projectRoot, true)).stale, []);
  });

  for (const overlay of OVERLAYS) {
    it(`the ${overlay} overlay builds with kustomize, every object validates against its schema, and holds what a safe deploy needs`, async (t) => {
      const docs = await kustomize(overlay);
      if (!docs) return t.skip('kubectl (with its built-in kustomize) is not installed here; CI requires it');
      const spec = OVERLAY_SPECS[overlay];
      for (const doc of docs) {
        validate(doc);
        assert.equal(
          doc.metadata.namespace,
          spec.namespace,
          `${doc.kind}/${doc.metadata.name} is in the overlay's namespace`,
        );
      }
      assert.deepEqual(
        find(docs, 'Secret'),
        [],
        'no Secret objects in the manifests: secrets are created outside them',
      );

      // Settings: exactly the overlay's, none of them a secret, and their digest on the pods.
      const [config] = find(docs, 'ConfigMap') as unknown as { data: Record<string, string> }[];
      assert.deepEqual(config!.data, overlayConfig(overlay));
      for (const key of Object.keys(config!.data))
        assert.doesNotMatch(key, /SECRET|PASSWORD|TOKEN|DATABASE_URL|WEBHOOK|SMTP/, `${key} belongs in the Secret`);

      const [rollout] = find(docs, 'Rollout', 'entitle') as unknown as Rollout[];
      const template = rollout!.spec.template!;
      assert.equal(
        rollout!.spec.replicas,
        undefined,
        'the autoscaler owns the replica count: applying must not reset it',
      );
      assert.equal(template.metadata!.annotations!['entitle.service.gov.uk/config-digest'], configDigest(config!.data));
      const container = template.spec!.containers[0]!;
      assert.equal(container.readinessProbe?.httpGet?.path, '/ready');
      assert.equal(container.livenessProbe?.httpGet?.path, '/health');
      assert.ok(
        container.lifecycle?.preStop?.exec?.command?.includes('/bin/sleep'),
        'a preStop delay drains connections',
      );
      assert.deepEqual(container.resources, spec.resources);

      let templates: string[];
      if (spec.strategy === 'canary') {
        const canary = rollout!.spec.strategy!.canary!;
        assert.equal(rollout!.spec.strategy!.blueGreen, undefined);
        assert.deepEqual(
          canary.steps!.filter((s) => s.setWeight !== undefined).map((s) => s.setWeight),
          [10, 50, 100],
        );
        assert.deepEqual(
          canary.steps!.filter((s) => s.pause).map((s) => s.pause!.duration),
          [...spec.pauses],
        );
        templates = [...canary.analysis!.templates!, ...canary.steps!.flatMap((s) => s.analysis?.templates ?? [])].map(
          (x) => x.templateName ?? '',
        );
      } else {
        // Blue-green: checked whole behind the preview Service before it takes any traffic (the
        // smoke journeys and the replay check), then watched by the canary analysis.
        const blueGreen = rollout!.spec.strategy!.blueGreen!;
        assert.equal(rollout!.spec.strategy!.canary, undefined);
        assert.deepEqual([blueGreen.activeService, blueGreen.previewService], ['entitle-stable', 'entitle-canary']);
        const pre = blueGreen.prePromotionAnalysis!.templates!.map((x) => x.templateName ?? '');
        const post = blueGreen.postPromotionAnalysis!.templates!.map((x) => x.templateName ?? '');
        assert.deepEqual(pre, ['entitle-canary-smoke', 'entitle-replay-check']);
        assert.deepEqual(post, ['entitle-canary-analysis']);
        templates = [...pre, ...post];
      }
      for (const name of templates)
        assert.equal(find(docs, 'AnalysisTemplate', name).length, 1, `analysis template ${name} is in the build`);
      const analysis = find(docs, 'AnalysisTemplate', 'entitle-canary-analysis')[0] as unknown as AnalysisTemplate;
      assert.deepEqual(
        analysis.spec.metrics.map((m) => m.name),
        ['error-ratio', 'p99-latency', 'unexpected-decision-differences'],
      );

      const [hpa] = find(docs, 'HorizontalPodAutoscaler') as unknown as HorizontalPodAutoscaler[];
      assert.deepEqual(hpa!.spec!.scaleTargetRef, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: 'entitle',
      });
      assert.deepEqual([hpa!.spec!.minReplicas, hpa!.spec!.maxReplicas], [spec.autoscale.min, spec.autoscale.max]);
      assert.equal(find(docs, 'PodDisruptionBudget').length, 1);
      assert.equal(find(docs, 'NetworkPolicy').length, 1);
      assert.equal((find(docs, 'Ingress')[0] as unknown as Ingress).spec!.rules![0]!.host, spec.host);
      const [job] = find(docs, 'Job', 'entitle-migrate') as unknown as Job[];
      assert.deepEqual(job!.spec!.template.spec!.containers[0]!.args, ['db', 'migrate']);
      // The engine check the pipeline runs with the new image after the migration, before the canary.
      const [replay] = find(docs, 'Job', 'entitle-replay-check') as unknown as Job[];
      assert.deepEqual(replay!.spec!.template.spec!.containers[0]!.args, ['replay', '--local', '--sample', '2000']);
      assert.equal(replay!.spec!.backoffLimit, 0, 'a difference is a finding: never retried on its own');
      assert.equal(replay!.metadata!.labels!['app.kubernetes.io/component'], 'replay-check');

      // What the pipeline applies before the new pods: the settings, the account and the migration Job.
      const first = docs.filter((d) =>
        ['config', 'migration'].includes(
          (d.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/component'] ?? '',
        ),
      );
      assert.deepEqual(first.map((d) => d.kind).sort(), ['ConfigMap', 'Job', 'ServiceAccount']);
      // Jobs' pods are Entitle's (the network policy admits the smoke test) but not the service's
      // (no Service or disruption budget selects them).
      const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      const policy = find(docs, 'NetworkPolicy')[0] as unknown as NetworkPolicy;
      const admitted = policy.spec!.ingress![0]!.from!.flatMap((f) =>
        f.podSelector?.matchLabels ? [f.podSelector.matchLabels] : [],
      );
      const pdb = find(docs, 'PodDisruptionBudget')[0] as unknown as PodDisruptionBudget;
      const jobPods = [
        (job!.spec!.template.metadata?.labels ?? {}) as Record<string, string>,
        analysisJob(docs)?.metadata?.labels ?? {},
      ];
      for (const labels of jobPods) {
        assert.ok(
          admitted.some((selector) => matches(selector, labels)),
          `the network policy admits ${labels['app.kubernetes.io/name']}`,
        );
        assert.ok(
          !matches(pdb.spec!.selector!.matchLabels!, labels),
          `the disruption budget does not select ${labels['app.kubernetes.io/name']}`,
        );
        for (const service of find(docs, 'Service') as unknown as Service[])
          assert.ok(
            !matches(service.spec!.selector!, labels),
            `Service ${service.metadata!.name} does not select ${labels['app.kubernetes.io/name']}`,
          );
      }

      // Every pod, wherever it is defined: non-root, read-only root filesystem, no privileges,
      // limits set, the pipeline's image, and secrets only from the Secret object.
      const pods = podSpecs(docs);
      // The Rollout, the migration and replay-check Jobs, the smoke and replay-check analysis
      // Jobs and the four scheduled jobs: backup, audit verify, retention purge and the probe.
      assert.equal(pods.length, 9);
      assert.deepEqual(
        (find(docs, 'CronJob') as unknown as { metadata: { name: string }; spec: { schedule: string } }[])
          .map((c) => c.metadata.name)
          .sort(),
        ['entitle-audit-verify', 'entitle-backup', 'entitle-probe', 'entitle-retention-purge'],
      );
      for (const { where, spec: pod } of pods) {
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${where} runs as non-root`);
        assert.equal(pod.automountServiceAccountToken, false, `${where} has no API token`);
        for (const c of pod.containers) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where} root filesystem is read-only`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
          assert.ok(c.resources?.limits?.cpu && c.resources.limits.memory, `${where} has limits`);
          assert.match(c.image ?? '', /^ghcr\.io\/entitle\/entitle:/);
          for (const e of c.env ?? []) {
            assert.equal(e.value, undefined, `${where}: ${e.name} is not a literal`);
            assert.equal(
              e.valueFrom?.secretKeyRef?.name,
              'entitle-secrets',
              `${where}: ${e.name} comes from the Secret`,
            );
            const key = e.valueFrom?.secretKeyRef?.key;
            assert.ok(SECRET_KEYS.some((s) => s.key === key) || key === 'ENTITLE_SMOKE_KEY', `${where}: ${key}`);
            if (where.startsWith('Rollout'))
              assert.ok(!SECRET_KEYS.some((s) => s.key === key && s.jobsOnly), `${where}: ${key} is for jobs only`);
          }
        }
      }
      // The checkpoints outside the database: every pod of the service writes to the same claim.
      const service = find(docs, 'Rollout')[0] as unknown as { spec: { template: { spec: IPodSpec } } };
      const volumes = service.spec.template.spec.volumes ?? [];
      assert.ok(volumes.some((v) => v.persistentVolumeClaim?.claimName === 'entitle-checkpoints'));
      const claim = find(docs, 'PersistentVolumeClaim', 'entitle-checkpoints')[0] as unknown as PersistentVolumeClaim;
      assert.deepEqual(claim.spec?.accessModes, ['ReadWriteMany']);
      assert.equal(find(docs, 'CronJob', 'entitle-backup').length, 1);
    });
  }

  it('really validates: a misspelt or mistyped field fails the schema', async (t) => {
    const docs = await kustomize('production');
    if (!docs) return t.skip('kubectl is not installed here');
    const rollout = structuredClone(find(docs, 'Rollout')[0]!) as Doc & { spec: Record<string, unknown> };
    rollout.spec.replicas = 'six';
    assert.throws(() => validate(rollout));
    const hpa = structuredClone(find(docs, 'HorizontalPodAutoscaler')[0]!) as Doc & { spec: Record<string, unknown> };
    delete hpa.spec.maxReplicas;
    assert.throws(() => validate(hpa));
  });

  it('judges the canary with queries promtool accepts, on metrics the service exposes', async () => {
    // The whole service, live releases included: they register the release comparison metrics.
    const database = await testDatabases.postgres();
    const service = await startService({
      store: { databaseUrl: database.url },
      rulesDir: BUNDLED_RULESETS,
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logLevel: 'silent',
    });
    try {
      const exposed = await (await fetch(`${service.address}/metrics`)).text();
      for (const metric of CANARY_METRICS) {
        for (const [name] of metric.query.matchAll(/entitle_[a-z0-9_]+/g)) {
          const family = name.replace(/_(bucket|count|sum|total)$/, '');
          assert.match(
            exposed,
            new RegExp(`^# TYPE ${family}(_total)? `, 'm'),
            `${metric.name} reads ${name}, which the service exposes`,
          );
        }
        assert.match(
          metric.query,
          /rollouts_pod_template_hash="\{\{args\.canary-hash\}\}"/,
          `${metric.name} looks at the canary's pods only`,
        );
      }
    } finally {
      await service.stop();
      await database.drop();
    }
    const dir = await mkdtemp(join(tmpdir(), 'entitle-analysis-'));
    try {
      const rules = {
        groups: [
          {
            name: 'canary',
            rules: CANARY_METRICS.map((m) => ({
              record: `entitle:canary_${m.name.replaceAll('-', '_')}`,
              expr: m.query
                .replaceAll('{{args.canary-hash}}', 'abc123')
                .replaceAll('{{args.namespace}}', 'entitle-production'),
            })),
          },
        ],
      };
      await writeFile(join(dir, 'canary.yml'), stringify(rules));
      try {
        await run('promtool', ['check', 'rules', join(dir, 'canary.yml')]);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.env.CI !== 'true') return;
        throw new Error(
          `promtool refused a canary query: ${(error as { stdout?: string; stderr?: string }).stderr ?? ''}${(error as { stdout?: string }).stdout ?? ''}`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('entitle env diff', () => {
  it('names the keys that differ between two environments and never their values', async () => {
    const diff = await envDiff(projectRoot, 'staging', 'production');
    assert.deepEqual(diff.onlyInB, []);
    assert.deepEqual(diff.onlyInA, []);
    assert.ok(diff.differ.includes('config entitle-config ENTITLE_ENVIRONMENT'));
    assert.ok(diff.differ.includes('config entitle-config ENTITLE_RETENTION_DAYS'));
    assert.ok(diff.differ.includes('Rollout/entitle /spec/template/spec/containers/0/resources'));
    assert.ok(diff.differ.includes('HorizontalPodAutoscaler/entitle /spec/maxReplicas'));
    assert.ok(!diff.differ.includes('config entitle-config LOG_LEVEL'), 'both keep the base log level');

    const cli = await runEntitle(['env', 'diff', 'development', 'production']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(
      cli.stdout,
      /Set only in production \(\d+\)\n( {2}.*\n)* {2}config entitle-config ENTITLE_CONSOLE_URL\n/,
    );
    // dev deploys blue-green, production by canary: the strategy is a difference, named.
    assert.match(cli.stdout, /Set only in dev \(\d+\)\n {2}Rollout\/entitle \/spec\/strategy\n/);
    for (const value of [
      'https://entitle.service.gov.uk/ops',
      '2557',
      'debug',
      'entitle-production',
      'entitle.dev.internal',
    ]) {
      assert.ok(!cli.stdout.includes(value), `the value ${value} is not shown`);
    }
    const parity = await runEntitle(['env', 'diff', 'development', 'production', '--fail-on-difference']);
    assert.equal(parity.code, 1);
    const wrong = await runEntitle(['env', 'diff', 'staging', 'prod']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /B: give one of dev, staging, production/);
  });
});
