/**
 * The failure modes of Entitle, written for someone who has never seen the code: the single
 * source the runbooks (docs/runbooks/<alert>.md) are generated from. Commands are exact and run
 * against a real deployment: `entitle` commands take DATABASE_URL like the service; `$ENTITLE_URL`
 * is the service's address (such as http://127.0.0.1:3000). A test checks that every command,
 * endpoint, metric and table named here exists.
 */
import { SLOS } from '../slos/index.ts';
import {
  ABSENT_ALERT,
  burnAlertName,
  CHAIN_BROKEN_ALERT,
  LOG_STALLED_ALERT,
  DEGRADED_ALERT,
  EVENT_LOOP_ALERT,
  INSTANCES_DISAGREE_ALERT,
  OVERLOADED_ALERT,
  ROLLBACK_SLOW_ALERT,
  ROLLED_BACK_ALERT,
  SCHEDULED_JOB_ALERT,
} from './rules.ts';

export interface Step {
  readonly text: string;
  readonly command?: string;
  /** What the output looks like when things are as described. */
  readonly expect?: string;
}

export interface FailureMode {
  readonly id: string;
  readonly title: string;
  /** The alerts that detect it; a mode with none says how it is detected instead. */
  readonly alerts: readonly string[];
  readonly detectedBy?: string;
  readonly symptom: string;
  readonly citizenImpact: string;
  readonly diagnosis: readonly Step[];
  readonly resolution: readonly Step[];
  readonly verification: readonly Step[];
  readonly rollback: readonly Step[];
  readonly tellCitizens: string;
  readonly escalation: string;
  readonly prevention: string;
}

const slo = (id: string) => burnAlertName(SLOS.find((s) => s.id === id)!);
const AVAILABILITY = slo('assessment_availability');
const LATENCY = slo('assessment_latency');
const RECORDED = slo('decisions_recorded');
const CONSISTENT = slo('decisions_consistent');

const READY: Step = {
  text: 'Ask an instance whether it is ready; each check says what it can reach.',
  command: 'curl -s $ENTITLE_URL/ready',
  expect: '{"status":"ready","checks":{"shutdown":true,"database":true,"migrations":true,"rules":true}}',
};
const WRITE_FAILURES: Step = {
  text: 'See whether decisions are failing to be written on this instance.',
  command:
    'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_decision_write_failures_total|^entitle_decision_write_seconds_sum|^entitle_decision_write_seconds_count"',
  expect: 'entitle_decision_write_failures_total 0 when healthy; a growing number means commits fail',
};
const AUDIT: Step = {
  text: 'Rebuild both verifiable logs (decisions and audit events) from the records and check them against every checkpoint, in the database and in ENTITLE_CHECKPOINT_DIR, and the controls against the audit log.',
  command: 'entitle audit verify',
  expect:
    'verified N decisions against M signed checkpoints: the decision log is intact ... the audit log is intact ... the controls match it',
};
const TELL_OUTAGE =
  'If citizens cannot get decisions for more than 15 minutes, this is a P1: declare an incident, name an incident lead and a communications lead, and publish the citizen status message (plain English, no promised time). Update stakeholders hourly.';
const ESCALATE_DB =
  'After 20 minutes without a cause, call the database on-call (the platform team). P1: the service owner is told at once.';

export const FAILURE_MODES: readonly FailureMode[] = [
  {
    id: 'database-unavailable',
    title: 'The database is unavailable or slow',
    alerts: [AVAILABILITY, RECORDED, LATENCY],
    symptom:
      'Assessments answer 503 with Retry-After ("the decision could not be recorded, so no decision was made"), or slowly; /ready reports database:false.',
    citizenImpact:
      'Citizens cannot get a decision; front ends ask them to try again later. No wrong decision is issued: the service never answers with a decision it did not record.',
    diagnosis: [
      READY,
      WRITE_FAILURES,
      {
        text: 'Check the database connection pool of an instance: waiting connections mean the database is slow or saturated.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^entitle_db_pool_connections',
        expect: 'entitle_db_pool_connections{state="waiting"} 0 when healthy',
      },
      {
        text: 'From a machine that can reach the database, check it answers and what holds its connections.',
        command:
          'psql "$DATABASE_URL" -c "SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database() GROUP BY state"',
        expect: 'a few rows; many "idle in transaction" or "active" for minutes point at a stuck query',
      },
      {
        text: 'Look for locks held a long time (decisions take none but their own rows; the sequencer holds its advisory lock for one round).',
        command:
          'psql "$DATABASE_URL" -c "SELECT pid, now() - xact_start AS age, left(query, 60) FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL ORDER BY age DESC LIMIT 5"',
        expect: 'ages of milliseconds; minutes mean a stuck transaction',
      },
    ],
    resolution: [
      {
        text: 'If a stuck transaction holds locks, end it (take its pid from the query above).',
        command: 'psql "$DATABASE_URL" -c "SELECT pg_terminate_backend(PID)"',
      },
      {
        text: 'If the database is down, restore it (platform runbook). Entitle recovers by itself: the pool reconnects, and /ready returns to ready.',
      },
    ],
    verification: [READY, WRITE_FAILURES, AUDIT],
    rollback: [
      {
        text: 'Ending a backend is final for its transaction only; nothing recorded is lost (a failed commit was never acknowledged). If a database change made things worse, revert it through the platform team.',
      },
    ],
    tellCitizens: TELL_OUTAGE,
    escalation: ESCALATE_DB,
    prevention:
      'Capacity review of the database; statement timeouts stay set (ENTITLE statement timeout 10 s); alert on pool waiting before it reaches citizens.',
  },
  {
    id: 'decision-writes-failing',
    title: 'Decision records are not being written',
    alerts: [RECORDED, AVAILABILITY],
    symptom: 'entitle_decision_write_failures_total grows; assessments answer 503 ENTITLE_STORE_UNAVAILABLE.',
    citizenImpact: 'Citizens get no decision (never an unrecorded one). Decisions already recorded are safe.',
    diagnosis: [
      WRITE_FAILURES,
      READY,
      {
        text: 'Check the service log for the failure kind (never personal data): look for event "decision_not_recorded".',
        command: 'kubectl logs deploy/entitle --since=15m | grep decision_not_recorded | head -5',
        expect: 'lines with "cause" naming the error kind, such as "DatabaseError"',
      },
      {
        text: 'Check the table is writable and has room.',
        command: 'psql "$DATABASE_URL" -c "SELECT seq, created_at FROM decisions ORDER BY seq DESC LIMIT 1"',
        expect: 'the latest decision, a moment ago',
      },
    ],
    resolution: [
      { text: 'If the database is unavailable, follow the "database unavailable" steps above.' },
      {
        text: 'If the disk is full or the database read-only, free space or fail over (platform team); the service recovers on its own.',
      },
    ],
    verification: [WRITE_FAILURES, AUDIT],
    rollback: [
      {
        text: 'No rollback: nothing was changed by the service. If a deploy preceded the failures, roll the deploy back.',
      },
    ],
    tellCitizens: TELL_OUTAGE,
    escalation: ESCALATE_DB,
    prevention: 'Watch write latency (entitle_decision_write_seconds) and disk; test failover in staging.',
  },
  {
    id: 'audit-chain-broken',
    title: 'The record of decisions or the audit log does not verify',
    alerts: [CHAIN_BROKEN_ALERT],
    symptom:
      'An instance reports entitle_chain_intact 0 (it rebuilds the log from the decisions as they are placed, and checks every decision it serves against the log), a read answers ENTITLE_RECORD_INTEGRITY, or `entitle audit verify` exits 1 naming a decision altered or deleted, a leaf missing, a checkpoint the log no longer extends, or a control changed by hand.',
    citizenImpact:
      'Decisions already made stand, and every other decision is still served. The altered one is not served: it cannot be trusted in a legal challenge. This is a P1 for integrity, and may be a security incident.',
    diagnosis: [
      {
        text: 'See which instance found it, and how far it had verified.',
        command: 'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_chain_intact|^entitle_chain_verified_records"',
        expect: 'entitle_chain_intact 1 on a healthy instance; 0 on the one that found the problem',
      },
      {
        text: 'Check the database against the checkpoints kept outside it (each is enough to expose a rewrite below its size).',
        command: 'entitle audit verify --checkpoint "$ENTITLE_CHECKPOINT_DIR/decisions/latest"',
        expect: 'exit 0; otherwise the message names the checkpoint and the leaves missing or rewritten',
      },
      AUDIT,
      {
        text: 'Look at the decision named, and its place in the log.',
        command:
          'psql "$DATABASE_URL" -c "SELECT e.leaf_index, d.id, d.created_at, d.record_hash, e.leaf FROM log_entries e JOIN decisions d ON d.id = e.ref WHERE e.log = \'decisions\' AND e.leaf_index BETWEEN N-2 AND N+2 ORDER BY e.leaf_index"',
        expect: 'each record_hash equal to its leaf; the one named differs, or is missing',
      },
    ],
    resolution: [
      {
        text: 'Do not "repair" the log. Preserve a copy of the database (entitle backup), declare a P1 security incident, and restore the altered rows from a backup only with the security lead: docs/operations.md gives the restore procedure, and a restored database must verify against the last external checkpoint.',
      },
    ],
    verification: [AUDIT],
    rollback: [
      {
        text: 'Restoring from backup is done by the platform team with the security lead; keep the altered copy as evidence.',
      },
    ],
    tellCitizens: 'Not until the security lead decides; no security detail in any citizen message.',
    escalation: 'At once: security lead and service owner (P1).',
    prevention:
      'Database access restricted to the service; each instance verifies new records as they are placed and every record it serves; checkpoints are signed with a key the database does not hold and kept outside it; a daily `entitle audit verify` checks every record against them.',
  },
  {
    id: 'log-checkpoints-stalled',
    title: 'Records wait for the verifiable log and no checkpoint is signed',
    alerts: [LOG_STALLED_ALERT],
    symptom:
      'entitle_log_queued_leaves stays above 0 while entitle_log_checkpoint_timestamp_seconds stops moving; receipts answer ENTITLE_RECEIPT_PENDING for minutes.',
    citizenImpact:
      'None on decisions: they are made and recorded. Receipts for new decisions wait until the log catches up.',
    diagnosis: [
      {
        text: 'See how many records wait, and when the last checkpoint was signed.',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_log_queued_leaves|^entitle_log_checkpoint_timestamp_seconds|^entitle_log_tree_size"',
        expect: 'queued leaves near 0 and a timestamp within a few seconds of now when healthy',
      },
      {
        text: 'Find why the sequencer fails: its log lines say whether the database refused or the stored tree no longer gives its signed root.',
        command: 'kubectl logs -l app=entitle --since=15m | grep -E "log_sequencing_failed|record_integrity_failed"',
        expect: 'no lines when healthy',
      },
    ],
    resolution: [
      {
        text: 'If the database refuses, follow the database runbook; the sequencer catches up by itself when it answers. If the stored tree does not give its signed root, this is the record-integrity runbook (EntitleDecisionChainBroken): do not sign around it.',
      },
    ],
    verification: [
      {
        text: 'The queue drains and a new checkpoint is served.',
        command: 'curl -s $ENTITLE_URL/v1/log/checkpoint',
        expect: 'a signed checkpoint whose size grows as decisions are made',
      },
    ],
    rollback: [{ text: 'Nothing to roll back: the sequencer changes nothing but the log.' }],
    tellCitizens: 'Nothing to tell citizens: decisions are unaffected.',
    escalation: 'If the queue has not drained within an hour: the service owner.',
    prevention:
      'Watch entitle_log_queued_leaves; the sequencer runs in every instance, so one healthy instance keeps the log moving.',
  },
  {
    id: 'scheduled-job-late',
    title: 'A scheduled job has not succeeded in its period',
    alerts: [SCHEDULED_JOB_ALERT],
    symptom:
      'The CronJob named by the alert (entitle-backup, entitle-audit-verify, entitle-retention-purge or entitle-probe) has failed runs, or none: kube_cronjob_status_last_successful_time is older than its period.',
    citizenImpact:
      'None at once. Each job guards something: the backup a lost database, the audit verify an altered record, the purge personal data kept past its time, the probe the citizen journeys.',
    diagnosis: [
      {
        text: 'See when each scheduled job last ran and last succeeded.',
        command: 'kubectl -n entitle-production get cronjobs -l app.kubernetes.io/part-of=entitle',
        expect: 'LAST SCHEDULE within the period of each job',
      },
      {
        text: 'Read what the last run of the job said (replace the name with the one the alert names).',
        command:
          'kubectl -n entitle-production logs job/$(kubectl -n entitle-production get jobs -l app.kubernetes.io/name=entitle-backup -o name | tail -1 | cut -d/ -f2)',
        expect:
          "the command's own message: a named problem and what to do (the database unreachable, a key missing, the record altered)",
      },
      {
        text: 'The purge and the probe go through the service with their own keys (ENTITLE_SCHEDULER_KEY, operator; ENTITLE_PROBE_KEY, assessor and caseworker) in the Secret: a 401 in their log means the key is missing, revoked or expired.',
      },
    ],
    resolution: [
      {
        text: 'Fix what the log names, then run the job once by hand rather than waiting for its schedule.',
        command: 'kubectl -n entitle-production create job --from=cronjob/entitle-backup entitle-backup-by-hand',
      },
      {
        text: 'If the audit verify fails because the record does not verify, this is the record-integrity runbook (EntitleDecisionChainBroken): declare a P1, do not run it again to make it pass.',
      },
      {
        text: 'A key the purge or probe needs: make one ("entitle keys create --name scheduler --roles operator", or "--name probe --roles assessor,caseworker") and put it in the Secret.',
      },
    ],
    verification: [
      {
        text: 'The run by hand completes, and the alert clears within 5 minutes of kube-state-metrics seeing it.',
        command: 'kubectl -n entitle-production get jobs -l app.kubernetes.io/part-of=entitle',
        expect: 'COMPLETIONS 1/1 for the run by hand',
      },
    ],
    rollback: [{ text: 'Nothing to roll back: the jobs change nothing the service depends on to decide.' }],
    tellCitizens: 'Nothing to tell citizens.',
    escalation:
      'The audit verify failing on the record: at once, security lead (P1). A backup missing for two days: the service owner and the platform team. Otherwise within a working day.',
    prevention:
      'Every scheduled job is alerted on by this rule; keys the jobs use are given their own names so their expiry and rotation are visible in `entitle keys list`.',
  },
  {
    id: 'rule-evaluation-errors',
    title: 'Rules fail to evaluate or need a rate that is not confirmed',
    alerts: [AVAILABILITY],
    symptom:
      'Assessments answer 500 ENTITLE_EVALUATION_FAILED, or 422 ENTITLE_PARAMETER_UNCONFIRMED for dates whose rates are not confirmed.',
    citizenImpact: 'Some citizens (a benefit, or some households) cannot get a decision.',
    diagnosis: [
      {
        text: 'See assessments by outcome and rule-set version.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^entitle_assessments_total',
        expect: 'outcome="entitled" and "not_entitled" growing; "cannot_assess" or many 5xx point here',
      },
      { text: 'See which version decides now, per benefit.', command: 'curl -s $ENTITLE_URL/version' },
      {
        text: 'Run the golden tests of the bundled rule sets.',
        command: 'entitle rules test',
        expect: 'every test passes',
      },
    ],
    resolution: [
      {
        text: 'If a release made this happen, roll it back (it is the active one in the list).',
        command: 'entitle release list',
        expect: 'the release in state active',
      },
      {
        text: 'Roll it back with a reason.',
        command: 'entitle release rollback RELEASE --reason "evaluation errors after release"',
      },
      {
        text: 'If rates are unconfirmed for the dates asked, the policy team must confirm them and release a rule set: never estimate a rate.',
      },
    ],
    verification: [
      {
        text: 'Errors stop, and every instance serves the version you expect.',
        command: 'curl -s $ENTITLE_URL/version',
      },
    ],
    rollback: [
      { text: 'A rolled-back release cannot decide again; re-release a fixed version with `entitle release create`.' },
    ],
    tellCitizens: 'If one benefit cannot be assessed for more than an hour, a P2 status message for that benefit.',
    escalation: 'The policy team owning the rule set, then the service owner.',
    prevention: 'Golden tests, backtests and shadow comparison before any release (docs/releasing-rules.md).',
  },
  {
    id: 'unexpected-decision-differences',
    title: 'A release decides differently than it declared',
    alerts: [ROLLED_BACK_ALERT, CONSISTENT, ROLLBACK_SLOW_ALERT],
    symptom:
      'A release in shadow or canary was rolled back automatically, or replays of recorded decisions do not match.',
    citizenImpact:
      'In shadow: none. In a canary or active: citizens decided by the release may have had a wrong decision, and must be listed and corrected.',
    diagnosis: [
      {
        text: 'Find the release rolled back, and why.',
        command: 'entitle release list',
        expect: 'the release in state rolled-back',
      },
      {
        text: 'Read its comparisons, gate verdict, differing cases and steps.',
        command: 'entitle release status RELEASE',
        expect: 'gates fail: N of M comparisons differ unexpectedly ...',
      },
      {
        text: 'See comparisons by kind on an instance.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^entitle_release_comparisons_total',
      },
      {
        text: 'Replays that do not match point at a changed engine or stored rule set.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^entitle_replays_total',
        expect: 'result="mismatch" stays at 0',
      },
    ],
    resolution: [
      {
        text: 'If the release is still under test or active, roll it back.',
        command: 'entitle release rollback RELEASE --reason "unexpected differences"',
      },
      {
        text: 'List the decisions it made that the version returned to would make differently, for caseworkers.',
        command: 'entitle release affected RELEASE',
        expect: 'the counts to pay arrears, to recover, to review, and worklists/worklist-RELEASE.csv',
      },
    ],
    verification: [
      { text: 'Every instance serves the version returned to.', command: 'curl -s $ENTITLE_URL/version' },
      { text: 'The audit chain records the rollback and the worklist.', command: 'entitle audit verify' },
    ],
    rollback: [
      {
        text: 'A rollback is final for that release. If the rollback itself was wrong, release the same rule set again as a new release.',
      },
    ],
    tellCitizens:
      'If any citizen received a wrong decision, a P1: the caseworker briefing and, once the worklist is known, the resolution notice. Citizens on the worklist are contacted by caseworkers.',
    escalation: 'The policy team that wrote the release, and the service owner (P1 if decisions were wrong).',
    prevention: 'Declare every expected change; backtest before shadow; keep canaries small until the gates pass.',
  },
  {
    id: 'rollback-not-propagated',
    title: 'Instances serve different rule-set versions',
    alerts: [INSTANCES_DISAGREE_ALERT],
    symptom: 'Some instances still serve a version after a promotion or rollback changed it.',
    citizenImpact: 'The same circumstances get different decisions depending on which instance answers: a P1.',
    diagnosis: [
      {
        text: 'Ask each instance what it serves (repeat for each instance address).',
        command: 'curl -s $ENTITLE_URL/version',
        expect: 'the same hash for each benefit on every instance',
      },
      {
        text: 'Compare with what the database says is active.',
        command: 'psql "$DATABASE_URL" -c "SELECT benefit, ruleset_hash, release_id, changed_at FROM active_rulesets"',
      },
      {
        text: 'Look for reload failures on the lagging instance.',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_release_reload_failures_total|^entitle_ruleset_served"',
      },
    ],
    resolution: [
      {
        text: 'Restart the lagging instance: it loads the active version from the database at start.',
        command: 'kubectl rollout restart deploy/entitle',
      },
    ],
    verification: [{ text: 'Every instance answers the same hash.', command: 'curl -s $ENTITLE_URL/version' }],
    rollback: [{ text: 'Restarting is safe: in-flight requests finish first (graceful shutdown).' }],
    tellCitizens:
      'If it lasted long enough for decisions to differ, treat as "unexpected decision differences": list affected decisions.',
    escalation: 'Service owner (P1).',
    prevention:
      'Keep LISTEN connections allowed through proxies; the 250 ms polling fallback covers lost notifications.',
  },
  {
    id: 'migration-pending-or-failed',
    title: 'A database migration is pending or failed',
    alerts: [],
    detectedBy:
      'the deploy pipeline (the migration step fails) and /ready answering 503 with migrations:false, so load balancers stop sending traffic to that instance.',
    symptom: '/ready reports migrations:false on new instances; the deploy does not progress.',
    citizenImpact: 'None while old instances serve; if every instance is unready, citizens cannot get decisions.',
    diagnosis: [
      READY,
      {
        text: 'See which migrations are applied.',
        command: 'psql "$DATABASE_URL" -c "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"',
      },
    ],
    resolution: [
      {
        text: 'Migrations run at start under an advisory lock; start one instance and read its log for the failing statement, fix, and deploy again. Migrations are backward compatible, so old instances keep serving.',
      },
    ],
    verification: [READY],
    rollback: [{ text: 'Roll the deploy back; expand-only migrations leave the old version working.' }],
    tellCitizens: 'Only if every instance is unready for more than 15 minutes (then as an outage).',
    escalation: 'The engineer who wrote the migration, then the service owner.',
    prevention: 'Expand and contract; migrations tested against the previous release in CI.',
  },
  {
    id: 'surge-beyond-capacity',
    title: 'A surge beyond capacity',
    alerts: [OVERLOADED_ALERT, DEGRADED_ALERT, LATENCY, AVAILABILITY],
    symptom:
      'Some assessments answer 503 ENTITLE_OVERLOADED with Retry-After at once (admission control: the queue is full or a request waited past its limit); instances have dropped shadow evaluation, then full explanation traces, then replay and report endpoints (503 ENTITLE_DEGRADED). Citizen assessments that are admitted are decided as usual.',
    citizenImpact:
      'Some citizens are asked to try again in a few seconds; the rest get their decision and its reasons. Retrying with the same Idempotency-Key returns the first decision, never a second one.',
    diagnosis: [
      {
        text: 'See what admission control is refusing, by priority and reason (queue_full, waited_too_long, displaced), and how full it is now.',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_admission_rejected_total|^entitle_admission_in_flight|^entitle_admission_queue_depth"',
        expect: 'rejected_total growing for priority="citizen" means the fleet is past its capacity',
      },
      {
        text: 'See what the instance is dropping under pressure and why (event-loop delay, database pool waiting, queue depth).',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_degradation_level|^entitle_feature_available|^entitle_pressure_event_loop_delay_seconds|^entitle_pressure_db_pool_waiting"',
        expect: 'entitle_degradation_level 0 when calm; 1 to 3 while shedding',
      },
      {
        text: 'See the flags, and each flag change waiting for approval, as every instance follows them; the Feature flags page of the operations console shows the same with the degradation level and the admission queue.',
        command: 'entitle flags list',
      },
      {
        text: 'See how many decisions each commit carries: large batches mean the writer is saturated.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^entitle_decision_batch_size',
      },
    ],
    resolution: [
      {
        text: 'Add instances: each decides about the figure in docs/capacity.md, and the database takes several.',
        command: 'kubectl scale deploy/entitle --replicas=N',
      },
      { text: 'If batch or operator work is adding to the load, pause it; citizen assessments already come first.' },
      {
        text: 'To shed non-critical work on every instance at once, before pressure does, switch off its kill switch (in production a second person approves).',
        command: 'entitle flags set shadow-evaluation --off --reason "surge: shed shadow evaluation"',
      },
    ],
    verification: [
      {
        text: 'No citizen refusals: the rejected count stops growing, and the degradation level is back to 0 on every instance (it restores one step every 2 s of calm).',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_admission_rejected_total|^entitle_degradation_level"',
      },
      { text: 'Latency back under 500 ms at the 99th percentile; the alerts resolve.' },
    ],
    rollback: [
      {
        text: 'Switch a kill switch you turned off back on.',
        command: 'entitle flags set shadow-evaluation --on --reason "surge over"',
      },
      { text: 'Scale back down once the surge has passed.', command: 'kubectl scale deploy/entitle --replicas=N' },
    ],
    tellCitizens:
      'If citizens are turned away for more than 15 minutes, a P2 status message: the service is busy, try again in a few minutes, nothing already sent is lost.',
    escalation: 'Platform team for capacity; service owner if it lasts an hour.',
    prevention:
      'Capacity planning before announcements and the April uprating, from docs/capacity.md; the surge benchmark (npm run bench:surge) after every change to the assessment path.',
  },
  {
    id: 'event-loop-saturated',
    title: 'An instance is saturated (event loop lag or memory)',
    alerts: [EVENT_LOOP_ALERT, DEGRADED_ALERT, LATENCY],
    symptom: 'Event loop lag above half a second on an instance; every request on it is slow.',
    citizenImpact: 'Citizens served by that instance wait; some front ends time out.',
    diagnosis: [
      {
        text: 'See the event loop lag and memory of an instance.',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^nodejs_eventloop_lag_p99_seconds|^process_resident_memory_bytes"',
        expect: 'lag in milliseconds; memory steady',
      },
      {
        text: 'See whether shadow comparisons are queued (they are shed first).',
        command:
          'curl -s $ENTITLE_URL/metrics | grep -E "^entitle_release_shadow_queue_depth|^entitle_release_shadow_dropped_total"',
      },
    ],
    resolution: [
      {
        text: 'If a release in shadow at a large share is the load, lower its share.',
        command: 'entitle release shadow RELEASE --percent 10 --reason "shed shadow load"',
      },
      { text: 'Restart the instance if memory keeps growing.', command: 'kubectl rollout restart deploy/entitle' },
    ],
    verification: [
      {
        text: 'Lag back to milliseconds.',
        command: 'curl -s $ENTITLE_URL/metrics | grep ^nodejs_eventloop_lag_p99_seconds',
      },
    ],
    rollback: [{ text: 'Raise the shadow share again once the load has passed.' }],
    tellCitizens: 'Usually not needed; as a surge if citizens are turned away.',
    escalation: 'The service owner if it recurs.',
    prevention: 'Bounded queues; shed shadow work first; soak tests for memory.',
  },
  {
    id: 'no-metrics',
    title: 'No instance reports metrics',
    alerts: [ABSENT_ALERT],
    symptom: 'Prometheus has no Entitle series: every Entitle alert is blind.',
    citizenImpact: 'Unknown until checked: if the service is down, no citizen can get a decision.',
    diagnosis: [
      { text: 'Is the service alive?', command: 'curl -s $ENTITLE_URL/health', expect: '{"status":"alive"}' },
      READY,
      {
        text: 'Does it serve metrics?',
        command: 'curl -s $ENTITLE_URL/metrics | grep -c ^entitle_',
        expect: 'a count above 10',
      },
    ],
    resolution: [
      {
        text: 'If the service is down, restart it and follow "database unavailable" if /ready says database:false.',
        command: 'kubectl rollout restart deploy/entitle',
      },
      { text: 'If the service is up, fix Prometheus scraping (target, network policy).' },
    ],
    verification: [{ text: 'The absent alert resolves; other alerts evaluate again.' }],
    rollback: [{ text: 'None needed.' }],
    tellCitizens: TELL_OUTAGE,
    escalation: 'Platform team for Prometheus; service owner if the service is down (P1).',
    prevention: 'Scrape configuration checked in the deploy pipeline.',
  },
  {
    id: 'certificate-or-key-expiry',
    title: 'Certificates or keys expire',
    alerts: [],
    detectedBy:
      'not applicable inside Entitle: TLS ends at the ingress (platform-owned certificates, with their own expiry alerts), and Entitle API keys do not expire; they are revoked with `entitle keys revoke`.',
    symptom: 'Front ends get TLS errors (ingress), or 401 after a key was revoked.',
    citizenImpact: 'Citizens cannot get decisions through the affected front end.',
    diagnosis: [{ text: 'List API keys and whether they are revoked.', command: 'entitle keys list' }],
    resolution: [
      {
        text: 'Issue a new key for the front end and give it to its team.',
        command: 'entitle keys create --name FRONT_END --roles assessor',
      },
    ],
    verification: [{ text: 'The front end gets 201 again.' }],
    rollback: [{ text: 'Revoke the new key if it was issued in error.', command: 'entitle keys revoke KEY_NAME' }],
    tellCitizens: 'As an outage if a front end is cut off for more than 15 minutes.',
    escalation: 'The platform team for certificates.',
    prevention: 'Rotate keys on a schedule; certificates renewed automatically.',
  },
];
