import { EntitleError } from '../errors/index.ts';
import { parseIsoDate } from '../rules/index.ts';

/**
 * The moment before which decisions' inputs are purged: a date given, or now less the retention
 * period. `fields` names the options as the caller knows them (--before on the command line).
 */
export function purgeCutoff(
  options: { before?: string | undefined; retentionDays?: string | number | undefined },
  now = new Date(),
  fields = { before: '--before', retentionDays: '--retention-days' },
): string {
  if (options.before !== undefined) {
    if (parseIsoDate(options.before) === undefined) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', `${fields.before} must be a date`, [
        { field: fields.before, message: 'enter a date such as 2019-04-06' },
      ]);
    }
    return `${options.before}T00:00:00.000Z`;
  }
  const days = Number(options.retentionDays);
  if (options.retentionDays === undefined || !Number.isInteger(days) || days < 1) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'say which decisions to purge', [
      {
        field: fields.before,
        message: `give ${fields.before} YYYY-MM-DD, or ${fields.retentionDays} N (or ENTITLE_RETENTION_DAYS) with N a whole number of days, 1 or more`,
      },
    ]);
  }
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}
