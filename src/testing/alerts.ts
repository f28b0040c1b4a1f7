/**
 * An Alertmanager webhook payload (version 4) for one firing alert, as Alertmanager sends it to
 * POST /v1/alerts/alertmanager. A `priority` goes on the group and the alert, as the rules set it.
 */
export function alertGroup(
  alertname: string,
  options: { readonly priority?: string; readonly summary?: string; readonly fingerprint?: string } = {},
) {
  const labels = { alertname, ...(options.priority ? { priority: options.priority } : {}) };
  return {
    version: '4',
    status: 'firing',
    receiver: 'entitle',
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: options.summary ? { summary: options.summary } : {},
    externalURL: 'http://alertmanager',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: {},
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}),
      },
    ],
  };
}
