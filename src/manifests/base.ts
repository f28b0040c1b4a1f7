import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import type { Model } from '@kubernetes-models/base';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IEnvVar, IPodSecurityContext, ISecurityContext } from 'kubernetes-models/v1';
import { SCHEDULED_JOB_PERIODS } from '../ops/index.ts';
import { ANALYSIS_TEMPLATE, canaryAnalysisTemplate, SMOKE_TEMPLATE } from './analysis.ts';

/**
 * The base Kubernetes objects, built from typed models (kubernetes-models and
 * @kubernetes-models/argo-rollouts) so a misspelt field fails the type check and the schema
 * validation rather than a deploy. Overlays (overlays.ts) change only what differs per environment.
 */

export const APP = 'entitle';
export const PORT = 3000;
/** The image name the manifests use; each overlay's kustomization sets the registry and tag. */
export const IMAGE = 'entitle';
export const CONFIG_MAP = 'entitle-config';
export const SECRET = 'entitle-secrets';
export const LABELS = { 'app.kubernetes.io/name': APP, 'app.kubernetes.io/part-of': APP } as const;
/** Labels of a Job's pods: part of Entitle, but never selected by its Services or its disruption budget. */
export function jobLabels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': `${APP}-${component}`,
    'app.kubernetes.io/part-of': APP,
    'app.kubernetes.io/component': component,
  };
}

/**
 * Seconds a stopping pod keeps serving after Kubernetes starts removing it from the Services'
 * endpoints (preStop), so load balancers stop sending before it stops listening.
 */
export const DRAIN_SECONDS = 10;
/** Then, after SIGTERM, the service keeps serving this long while /ready fails. */
export const SHUTDOWN_GRACE_MS = 5_000;

/** Non-secret settings every environment shares; overlays add and override (docs/operations.md). */
export const BASE_CONFIG: Readonly<Record<string, string>> = {
  HOST: '0.0.0.0',
  PORT: String(PORT),
  LOG_LEVEL: 'info',
  ENTITLE_SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
  ENTITLE_DB_POOL_SIZE: '10',
  // X-Forwarded-For is believed only from the cluster's private network, where ingress-nginx
  // runs; the network policy lets only the ingress and monitoring reach the pods. Narrow it to
  // the ingress controller's pod range where the cluster's is known (docs/operations.md).
  ENTITLE_TRUST_PROXY: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8',
  ENTITLE_ESCALATION_POLICY: 'deploy/incidents/escalation-policy.yml',
  PROMETHEUS_URL: 'http://prometheus.monitoring:9090',
  // Every signed checkpoint is also written here, a volume the database cannot reach (docs/record.md).
  ENTITLE_CHECKPOINT_DIR: '/var/lib/entitle/checkpoints',
  // The service's in-cluster address: where the scheduled jobs that go through its API send
  // their requests (the retention purge), and `entitle` run in a pod by hand.
  ENTITLE_URL: `http://${APP}:${PORT}`,
};

/** The checkpoints outside the database: shared by every pod (ReadWriteMany), kept when pods go. */
export const CHECKPOINTS_CLAIM = `${APP}-checkpoints`;
/** Where the backup CronJob writes. */
export const BACKUPS_CLAIM = `${APP}-backups`;
/** Daily at 02:15 UTC, a quiet hour; point-in-time recovery between them is WAL archiving's (docs/operations.md). */
export const BACKUP_SCHEDULE = '15 2 * * *';

/** Secrets, each only ever from the Secret object (never a ConfigMap or a literal); optional ones may be absent. */
export const SECRET_KEYS: readonly {
  readonly key: string;
  readonly optional: boolean;
  /** Read only by the scheduled jobs that need it, never given to the service's pods. */
  readonly jobsOnly?: boolean;
}[] = [
  { key: 'DATABASE_URL', optional: false },
  { key: 'ENTITLE_SESSION_SECRET', optional: false },
  // Signs the checkpoints of the verifiable log ("entitle log keygen"); its public half is published.
  { key: 'ENTITLE_LOG_SIGNING_KEY', optional: false },
  // Verifier keys of retired signing keys (public, kept beside the key they succeeded): their
  // checkpoints still verify after a rotation (docs/operations.md, "Rotating secrets").
  { key: 'ENTITLE_LOG_RETIRED_KEYS', optional: true },
  { key: 'ENTITLE_ONCALL_WEBHOOK_URL', optional: true },
  { key: 'ENTITLE_INCIDENT_MANAGERS_WEBHOOK_URL', optional: true },
  { key: 'ENTITLE_TEAM_WEBHOOK_URL', optional: true },
  { key: 'ENTITLE_SMTP_URL', optional: true },
  // API keys of the scheduled jobs that go through the service: the retention purge (operator,
  // "entitle keys create --name scheduler --roles operator") and the probe (assessor, caseworker).
  // Only those jobs read them; the service does not.
  { key: 'ENTITLE_SCHEDULER_KEY', optional: true, jobsOnly: true },
  { key: 'ENTITLE_PROBE_KEY', optional: true, jobsOnly: true },
];

export const POD_SECURITY: IPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const CONTAINER_SECURITY: ISecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
};

function secretEnv(keys = SECRET_KEYS.filter((s) => !s.jobsOnly)): IEnvVar[] {
  return keys.map(({ key, optional }) => ({
    name: key,
    valueFrom: { secretKeyRef: { name: SECRET, key, ...(optional ? { optional: true } : {}) } },
  }));
}

/** The one writable place: tsx's compile cache and Node's temporary files. */
const TMP_VOLUME = { name: 'tmp', emptyDir: { sizeLimit: '128Mi' } };
const TMP_MOUNT = { name: 'tmp', mountPath: '/tmp' };
const CHECKPOINTS_VOLUME = { name: 'checkpoints', persistentVolumeClaim: { claimName: CHECKPOINTS_CLAIM } };
const CHECKPOINTS_MOUNT = { name: 'checkpoints', mountPath: '/var/lib/entitle/checkpoints' };

function serviceContainer(): IContainer {
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: APP,
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    args: ['serve'],
    ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
    envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
    env: secretEnv(),
    // Ready only when the database answers, its migrations are current and rule sets are loaded.
    readinessProbe: probe('/ready', 2, 2),
    // Alive means the process answers: a database outage must not restart every pod.
    livenessProbe: probe('/health', 10, 3),
    startupProbe: probe('/health', 2, 30),
    lifecycle: { preStop: { exec: { command: ['/bin/sleep', String(DRAIN_SECONDS)] } } },
    resources: { requests: { cpu: '500m', memory: '384Mi' }, limits: { cpu: '2', memory: '768Mi' } },
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [TMP_MOUNT, CHECKPOINTS_MOUNT],
  };
}

/** Canary steps: 10% of traffic, then 50%, then everyone, with pauses the background analysis watches. */
export const CANARY_STEPS = [
  { setWeight: 10 },
  { analysis: { templates: [{ templateName: SMOKE_TEMPLATE }] } },
  { pause: { duration: '5m' } },
  { setWeight: 50 },
  { pause: { duration: '10m' } },
  { setWeight: 100 },
] as const;

export function rollout(): Rollout {
  return new Rollout({
    metadata: { name: APP, labels: { ...LABELS } },
    spec: {
      // No replicas: the autoscaler owns the count, and applying the manifests must not reset it.
      revisionHistoryLimit: 5,
      selector: { matchLabels: { 'app.kubernetes.io/name': APP } },
      // A new pod counts as available once it has been ready this long.
      minReadySeconds: 10,
      progressDeadlineSeconds: 600,
      progressDeadlineAbort: true,
      strategy: {
        canary: {
          canaryService: `${APP}-canary`,
          stableService: `${APP}-stable`,
          trafficRouting: { nginx: { stableIngress: APP } },
          // Never fewer ready pods than wanted while the canary starts.
          maxUnavailable: 0,
          maxSurge: '25%',
          // After an abort, keep the canary's pods a while for diagnosis; traffic has already left them.
          abortScaleDownDelaySeconds: 300,
          analysis: {
            templates: [{ templateName: ANALYSIS_TEMPLATE }],
            startingStep: 1,
            args: [
              { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
              { name: 'namespace', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
          },
          steps: CANARY_STEPS.map((step) => JSON.parse(JSON.stringify(step)) as Record<string, unknown>),
        },
      },
      template: {
        metadata: {
          labels: { ...LABELS },
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          serviceAccountName: APP,
          automountServiceAccountToken: false,
          securityContext: POD_SECURITY,
          terminationGracePeriodSeconds: DRAIN_SECONDS + SHUTDOWN_GRACE_MS / 1000 + 30,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': APP } },
            },
          ],
          containers: [serviceContainer()],
          volumes: [TMP_VOLUME, CHECKPOINTS_VOLUME],
        },
      },
    },
  });
}

function service(name: string, what: string): Service {
  return new Service({
    metadata: { name, labels: { ...LABELS }, annotations: { 'entitle.service.gov.uk/what': what } },
    spec: {
      selector: { 'app.kubernetes.io/name': APP },
      ports: [{ name: 'http', port: PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  });
}

/**
 * The migration Job: `entitle db migrate` with the new image, run by the pipeline (and by Argo CD
 * as a PreSync hook) before the new version's pods are created, so none takes traffic on a schema
 * it does not have. Instances also migrate at start under the same lock, which then finds nothing to do.
 */
export function migrationJob(): Job {
  return entitleJob({
    name: `${APP}-migrate`,
    component: 'migration',
    container: 'migrate',
    args: ['db', 'migrate'],
    annotations: {
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    },
    backoffLimit: 2,
    deadlineSeconds: 1800,
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  });
}

/** A Job running one `entitle` command with the new image, the settings and the database's address only. */
function entitleJob(job: {
  name: string;
  component: string;
  container: string;
  args: string[];
  annotations?: Record<string, string>;
  backoffLimit: number;
  deadlineSeconds: number;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}): Job {
  return new Job({
    metadata: {
      name: job.name,
      labels: jobLabels(job.component),
      ...(job.annotations ? { annotations: job.annotations } : {}),
    },
    spec: {
      backoffLimit: job.backoffLimit,
      activeDeadlineSeconds: job.deadlineSeconds,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: jobLabels(job.component) },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: APP,
          automountServiceAccountToken: false,
          securityContext: POD_SECURITY,
          containers: [
            {
              name: job.container,
              image: IMAGE,
              args: job.args,
              envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
              env: secretEnv(SECRET_KEYS.filter((s) => s.key === 'DATABASE_URL')),
              resources: job.resources,
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [TMP_MOUNT],
            },
          ],
          volumes: [TMP_VOLUME],
        },
      },
    },
  });
}

/**
 * The engine check: `entitle replay --local` with the new image, run by the pipeline after the
 * migration and before the canary. It replays a stratified sample of recorded decisions (every
 * benefit, rule-set version and outcome) with the new build on the database itself, and fails
 * (exit 1, listing each) if the build makes any of them differently: then no pod of it is made.
 */
export function replayCheckJob(): Job {
  return entitleJob({
    name: `${APP}-replay-check`,
    component: 'replay-check',
    container: 'replay-check',
    args: ['replay', '--local', '--sample', '2000'],
    // A difference is a finding, not a flake: never run again on its own.
    backoffLimit: 0,
    deadlineSeconds: 900,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  });
}

/**
 * Scaling for the surge after a policy announcement: up fast (double, or 4 pods, every 30 s, with
 * no waiting), down slowly (a pod a minute after 5 quiet minutes) so a second wave finds capacity.
 */
export function autoscaler(): HorizontalPodAutoscaler {
  return new HorizontalPodAutoscaler({
    metadata: { name: APP, labels: { ...LABELS } },
    spec: {
      scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: APP },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 30 },
            { type: 'Pods', value: 4, periodSeconds: 30 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          selectPolicy: 'Min',
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
    },
  });
}

export function disruptionBudget(): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name: APP, labels: { ...LABELS } },
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': APP } } },
  });
}

/**
 * Only what Entitle needs: traffic in from the ingress controller, Prometheus and Alertmanager;
 * out to DNS, PostgreSQL and HTTPS/SMTP for notifications. Everything else is refused.
 */
export function networkPolicy(): NetworkPolicy {
  const fromNamespace = (name: string) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
  });
  return new NetworkPolicy({
    metadata: { name: APP, labels: { ...LABELS } },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': APP } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          // The ingress controller, Prometheus and Alertmanager, and Entitle's own pods and Jobs (the canary smoke test).
          from: [
            fromNamespace('ingress-nginx'),
            fromNamespace('monitoring'),
            { podSelector: { matchLabels: { 'app.kubernetes.io/part-of': APP } } },
          ],
          ports: [{ protocol: 'TCP', port: PORT }],
        },
      ],
      egress: [
        {
          to: [fromNamespace('kube-system')],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { ports: [{ protocol: 'TCP', port: 5432 }] },
        {
          ports: [
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 587 },
          ],
        },
        // Prometheus, read by the console's SLO page and `entitle status`.
        { to: [fromNamespace('monitoring')], ports: [{ protocol: 'TCP', port: 9090 }] },
      ],
    },
  });
}

export function ingress(host: string): Ingress {
  return new Ingress({
    metadata: {
      name: APP,
      labels: { ...LABELS },
      annotations: {
        'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
        'nginx.ingress.kubernetes.io/proxy-next-upstream': 'error timeout http_502 http_503',
      },
    },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [host], secretName: `${APP}-tls` }],
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: `${APP}-stable`, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  });
}

/** The smoke Job reaches the canary's pods alone through the canary Service. */
export const CANARY_URL = `http://${APP}-canary:${PORT}`;
export const PROMETHEUS_ADDRESS = 'http://prometheus.monitoring:9090';

/**
 * The citizen journeys, run once against the canary's pods alone (`entitle smoke` through the
 * canary Service): a Job whose failure aborts the rollout before more citizens reach the canary.
 */
export function canarySmokeTemplate(): AnalysisTemplate {
  return new AnalysisTemplate({
    metadata: { name: SMOKE_TEMPLATE },
    spec: {
      metrics: [
        {
          name: 'citizen-journeys',
          provider: {
            job: {
              spec: {
                backoffLimit: 0,
                activeDeadlineSeconds: 120,
                template: {
                  metadata: { labels: jobLabels('smoke') },
                  spec: {
                    restartPolicy: 'Never',
                    serviceAccountName: APP,
                    automountServiceAccountToken: false,
                    securityContext: POD_SECURITY,
                    containers: [
                      {
                        name: 'smoke',
                        image: IMAGE,
                        args: ['smoke', '--url', CANARY_URL],
                        env: [
                          {
                            name: 'ENTITLE_SMOKE_KEY',
                            valueFrom: { secretKeyRef: { name: SECRET, key: 'ENTITLE_SMOKE_KEY' } },
                          },
                        ],
                        securityContext: CONTAINER_SECURITY,
                        resources: {
                          requests: { cpu: '50m', memory: '128Mi' },
                          limits: { cpu: '500m', memory: '256Mi' },
                        },
                        volumeMounts: [TMP_MOUNT],
                      },
                    ],
                    volumes: [{ ...TMP_VOLUME, emptyDir: { sizeLimit: '64Mi' } }],
                  },
                },
              },
            },
          },
        },
      ],
    },
  });
}

export const REPLAY_CHECK_TEMPLATE = `${APP}-replay-check`;

/**
 * The replay check as an analysis (blue-green's pre-promotion): the new image replays a stratified
 * sample of recorded decisions on the database itself and fails on any made differently, as the
 * pipeline's Job does before a canary (replayCheckJob).
 */
export function replayCheckTemplate(): AnalysisTemplate {
  const job = replayCheckJob();
  return new AnalysisTemplate({
    metadata: {
      name: REPLAY_CHECK_TEMPLATE,
      annotations: {
        'entitle.service.gov.uk/what':
          'The new build makes a stratified sample of recorded decisions as they were made (entitle replay --local).',
      },
    },
    spec: {
      metrics: [
        {
          name: 'recorded-decisions-replayed',
          // The Job's own spec, as plain JSON (the two models type its optional parts differently).
          provider: { job: { spec: JSON.parse(JSON.stringify(job.spec)) as never } },
        },
      ],
    },
  });
}

/**
 * Blue-green, the choice of an overlay (OVERLAY_SPECS): the new version starts beside the old one
 * behind the preview Service (entitle-canary) and takes no citizen traffic until the smoke
 * journeys and the replay check pass against it (pre-promotion); then all traffic switches at
 * once and the canary analysis watches the new pods (post-promotion), the old ones kept 5 minutes
 * for an instant switch back.
 */
export function blueGreenStrategy(): Record<string, unknown> {
  const args = [
    { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
    { name: 'namespace', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  return {
    blueGreen: {
      activeService: `${APP}-stable`,
      previewService: `${APP}-canary`,
      autoPromotionEnabled: true,
      prePromotionAnalysis: { templates: [{ templateName: SMOKE_TEMPLATE }, { templateName: REPLAY_CHECK_TEMPLATE }] },
      postPromotionAnalysis: { templates: [{ templateName: ANALYSIS_TEMPLATE }], args },
      scaleDownDelaySeconds: 300,
      abortScaleDownDelaySeconds: 300,
    },
  };
}

function claim(
  name: string,
  what: string,
  accessModes: ('ReadWriteMany' | 'ReadWriteOnce')[],
  storage: string,
): PersistentVolumeClaim {
  return new PersistentVolumeClaim({
    metadata: { name, labels: { ...LABELS }, annotations: { 'entitle.service.gov.uk/what': what } },
    spec: { accessModes, resources: { requests: { storage } } },
  });
}

/**
 * The scheduled jobs: what the service's operations depend on happening every day (or every few
 * minutes), each alerted on when it has not succeeded in its period (EntitleScheduledJobLate,
 * read from kube-state-metrics). Each runs one `entitle` command with the image in service.
 */
export interface ScheduledJob {
  readonly name: string;
  readonly component: string;
  readonly schedule: string;
  /** The longest it may go without a success before the alert fires, in seconds (src/ops). */
  readonly periodSeconds: number;
  readonly args: readonly string[];
  readonly what: string;
  /** Secret keys it needs, as the environment variables its command reads. */
  readonly secrets: readonly { readonly key: string; readonly as: string; readonly optional?: boolean }[];
  readonly mounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly volumes?: readonly {
    readonly name: string;
    readonly persistentVolumeClaim: { readonly claimName: string };
  }[];
  readonly deadlineSeconds: number;
}

/** The in-cluster address of the service, for jobs that go through its API. */
const IN_CLUSTER_URL = `http://${APP}:${PORT}`;

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  {
    name: `${APP}-backup`,
    component: 'backup',
    schedule: BACKUP_SCHEDULE,
    periodSeconds: SCHEDULED_JOB_PERIODS[`${APP}-backup`]!,
    args: ['backup', '--out-dir', '/var/lib/entitle/backups', '--keep', '14'],
    what: 'A consistent backup of the whole database, 14 kept (docs/operations.md, "Backup and restore").',
    secrets: [{ key: 'DATABASE_URL', as: 'DATABASE_URL' }],
    mounts: [{ name: 'backups', mountPath: '/var/lib/entitle/backups' }],
    volumes: [{ name: 'backups', persistentVolumeClaim: { claimName: BACKUPS_CLAIM } }],
    deadlineSeconds: 3600,
  },
  {
    name: `${APP}-audit-verify`,
    component: 'audit-verify',
    schedule: '45 3 * * *',
    periodSeconds: SCHEDULED_JOB_PERIODS[`${APP}-audit-verify`]!,
    // With every signed checkpoint kept outside the database (ENTITLE_CHECKPOINT_DIR).
    args: ['audit', 'verify'],
    what: 'The record checked against every signed checkpoint kept outside the database, and the controls against their audit events (docs/record.md).',
    secrets: [
      { key: 'DATABASE_URL', as: 'DATABASE_URL' },
      { key: 'ENTITLE_LOG_SIGNING_KEY', as: 'ENTITLE_LOG_SIGNING_KEY' },
      { key: 'ENTITLE_LOG_RETIRED_KEYS', as: 'ENTITLE_LOG_RETIRED_KEYS', optional: true },
    ],
    mounts: [{ name: 'checkpoints', mountPath: '/var/lib/entitle/checkpoints', readOnly: true }],
    volumes: [{ name: 'checkpoints', persistentVolumeClaim: { claimName: CHECKPOINTS_CLAIM } }],
    deadlineSeconds: 3600,
  },
  {
    name: `${APP}-retention-purge`,
    component: 'retention-purge',
    schedule: '30 1 * * *',
    periodSeconds: SCHEDULED_JOB_PERIODS[`${APP}-retention-purge`]!,
    // Through the service with an operator key, so the purge is recorded as done by its holder.
    args: ['decisions', 'purge'],
    what: 'The personal inputs of decisions older than ENTITLE_RETENTION_DAYS removed, through the service, recorded in the audit chain.',
    // ENTITLE_URL, the service's in-cluster address, comes with the settings.
    secrets: [{ key: 'ENTITLE_SCHEDULER_KEY', as: 'ENTITLE_API_KEY' }],
    deadlineSeconds: 3600,
  },
  {
    name: `${APP}-probe`,
    component: 'probe',
    schedule: '*/5 * * * *',
    periodSeconds: SCHEDULED_JOB_PERIODS[`${APP}-probe`]!,
    // The citizen journeys, end to end through the service: a synthetic household assessed,
    // its decision fetched and replayed (PROBE-SYNTHETIC- references).
    args: ['probe', '--once', '--url', IN_CLUSTER_URL],
    what: "The citizen journeys end to end: a synthetic household assessed, its decision fetched and replayed (the probe's own key).",
    secrets: [{ key: 'ENTITLE_PROBE_KEY', as: 'ENTITLE_PROBE_KEY' }],
    deadlineSeconds: 240,
  },
];

/** A scheduled job as a CronJob: never two runs at once, a run missed by an hour skipped. */
export function scheduledCronJob(job: ScheduledJob): CronJob {
  return new CronJob({
    metadata: {
      name: job.name,
      labels: jobLabels(job.component),
      annotations: { 'entitle.service.gov.uk/what': job.what },
    },
    spec: {
      schedule: job.schedule,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: Math.min(3600, job.periodSeconds / 2),
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: job.deadlineSeconds,
          template: {
            metadata: { labels: jobLabels(job.component) },
            spec: {
              restartPolicy: 'Never',
              serviceAccountName: APP,
              automountServiceAccountToken: false,
              securityContext: POD_SECURITY,
              containers: [
                {
                  name: job.component,
                  image: IMAGE,
                  args: [...job.args],
                  envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
                  env: [
                    ...job.secrets.map(({ key, as, optional }) => ({
                      name: as,
                      valueFrom: { secretKeyRef: { name: SECRET, key, ...(optional ? { optional: true } : {}) } },
                    })),
                  ],
                  resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [TMP_MOUNT, ...(job.mounts ?? [])],
                },
              ],
              volumes: [TMP_VOLUME, ...(job.volumes ?? [])],
            },
          },
        },
      },
    },
  });
}

/** The backup, as the other scheduled jobs. */
export function backupCronJob(): CronJob {
  return scheduledCronJob(SCHEDULED_JOBS[0]!);
}

/** Every base object, by the file it is written to. */
export function baseObjects(): Map<string, Model<unknown>> {
  return new Map<string, Model<unknown>>([
    // Labelled as configuration: the pipeline applies it with the settings before the migration Job, which runs as it.
    [
      'service-account.yaml',
      new ServiceAccount({
        metadata: { name: APP, labels: { ...LABELS, 'app.kubernetes.io/component': 'config' } },
        automountServiceAccountToken: false,
      }),
    ],
    ['rollout.yaml', rollout()],
    ['services.yaml', service(APP, "Every ready pod: in-cluster callers such as Alertmanager's webhook.")],
    ['service-stable.yaml', service(`${APP}-stable`, "The stable version's pods (Argo Rollouts sets the selector).")],
    ['service-canary.yaml', service(`${APP}-canary`, "The canary's pods (Argo Rollouts sets the selector).")],
    ['ingress.yaml', ingress('entitle.example')],
    ['analysis-template.yaml', canaryAnalysisTemplate(PROMETHEUS_ADDRESS)],
    ['smoke-template.yaml', canarySmokeTemplate()],
    ['replay-check-template.yaml', replayCheckTemplate()],
    ['migration-job.yaml', migrationJob()],
    ['replay-check-job.yaml', replayCheckJob()],
    ...SCHEDULED_JOBS.map((job): [string, Model<unknown>] => [
      job.component === 'backup' ? 'backup-cronjob.yaml' : `${job.component}-cronjob.yaml`,
      scheduledCronJob(job),
    ]),
    [
      'checkpoints-claim.yaml',
      claim(
        CHECKPOINTS_CLAIM,
        'Signed checkpoints of the verifiable log, outside the database.',
        ['ReadWriteMany'],
        '1Gi',
      ),
    ],
    ['backups-claim.yaml', claim(BACKUPS_CLAIM, 'Daily backups of the database (14 kept).', ['ReadWriteOnce'], '50Gi')],
    ['autoscaler.yaml', autoscaler()],
    ['disruption-budget.yaml', disruptionBudget()],
    ['network-policy.yaml', networkPolicy()],
  ]);
}
