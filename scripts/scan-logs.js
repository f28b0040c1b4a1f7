#!/usr/bin/env node
// Scans the logs written during a test run for personal data and secrets. The HTTP tests assess
// a "canary" applicant with distinctive details (src/testing/app.ts); none of them, no input
// field name and no API key may appear in any log line. Usage: scan-logs.js DIR [MIN_LINES]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN = [
  ['a canary date of birth', /1977-07-17|2019-09-19/],
  ['a canary amount', /1234\.56|7171\.71/],
  ['a canary application reference', /CANARY-APP-7717/],
  ['an input field', /"(household|dateOfBirth|monthlyNetEarnings|capital|inputs)"\s*:/],
  ['an API key', /ent_[A-Za-z0-9_-]{20,}|Bearer\s+\S+/],
];

const [dir, minLinesArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: scan-logs.js DIR [MIN_LINES]');
  process.exit(2);
}
const minLines = Number(minLinesArg ?? 1);
let lines = 0;
const found = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
  readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      lines += 1;
      for (const [what, pattern] of FORBIDDEN) if (pattern.test(line)) found.push(`${file}:${index + 1}: ${what}`);
    });
}
if (found.length > 0) {
  console.error(`personal data or secrets in the test logs (${found.length}):\n${found.slice(0, 20).join('\n')}`);
  process.exit(1);
}
if (lines < minLines) {
  console.error(`only ${lines} log lines were written (expected at least ${minLines}): the scan would prove nothing`);
  process.exit(1);
}
console.log(`log scan: ${lines} log lines from the test run, no personal data or secrets`);
