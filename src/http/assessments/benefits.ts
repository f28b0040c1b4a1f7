import { EntitleError } from '../../errors/index.ts';

/** The most benefits one household may be assessed for in one request. */
const MAX_BENEFITS = 10;

/** The benefits a request names: each a known spelling once, or a 400 naming the field. */
export function benefitsOf(body: Record<string, unknown>): string[] {
  const list = body.benefits;
  const problems: { field: string; message: string }[] = [];
  if ('benefit' in body)
    problems.push({ field: 'benefit', message: 'give benefit for one benefit, or benefits for several, not both' });
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BENEFITS) {
    problems.push({
      field: 'benefits',
      message: `enter a list of 1 to ${MAX_BENEFITS} benefits, such as ["universal-credit", "child-benefit"]`,
    });
  } else {
    list.forEach((b, i) => {
      if (typeof b !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(b))
        problems.push({ field: `benefits[${i}]`, message: 'enter a benefit such as universal-credit' });
      else if (list.indexOf(b) !== i)
        problems.push({ field: `benefits[${i}]`, message: 'is named twice: name each benefit once' });
    });
  }
  if (problems.length > 0)
    throw new EntitleError(
      'ENTITLE_INPUT_INVALID',
      `the assessment input has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
    );
  return list as string[];
}
