/**
 * Reading IAM policy documents as the synthesized JSON holds them (a JSON string per policy), and classifying
 * their actions: which are wildcards, which only read.
 */

/** One statement, with the single-or-list fields normalized to lists. */
export interface Statement {
  readonly sid: string | undefined;
  readonly effect: string;
  readonly principal: unknown;
  readonly notPrincipal: unknown;
  readonly actions: readonly string[];
  /** Set when the statement uses NotAction: it then grants every action but these. */
  readonly notActions: readonly string[] | undefined;
  readonly resources: readonly string[];
  /** Set when the statement uses NotResource: it then applies to every resource but these. */
  readonly notResources: readonly string[] | undefined;
  readonly condition: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The statements of a policy document given as JSON text (or already parsed), or why it cannot be read. */
export function policyStatements(document: unknown): { statements: Statement[] } | { error: string } {
  let parsed: unknown = document;
  if (typeof document === 'string') {
    if (/^\$\{[\s\S]*\}$/.test(document.trim())) {
      return { error: `the policy is a Terraform expression (${document.slice(0, 60)}), not a document the gate can read` };
    }
    try {
      parsed = JSON.parse(document);
    } catch (error) {
      return { error: `the policy is not JSON (${(error as Error).message})` };
    }
  }
  if (parsed === null || typeof parsed !== 'object') return { error: 'the policy is not a JSON object' };
  const raw = (parsed as { Statement?: unknown }).Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const statements: Statement[] = [];
  for (const item of list) {
    if (item === null || typeof item !== 'object') return { error: 'a statement is not a JSON object' };
    const s = item as Record<string, unknown>;
    statements.push({
      sid: typeof s.Sid === 'string' ? s.Sid : undefined,
      effect: String(s.Effect ?? ''),
      principal: s.Principal,
      notPrincipal: s.NotPrincipal,
      actions: strings(s.Action),
      notActions: s.NotAction === undefined ? undefined : strings(s.NotAction),
      resources: strings(s.Resource),
      notResources: s.NotResource === undefined ? undefined : strings(s.NotResource),
      condition: (s.Condition ?? {}) as Statement['condition'],
    });
  }
  return { statements };
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** How a statement is named in a message: its Sid, or its position. */
export function statementName(statement: Statement, index: number): string {
  return statement.sid === undefined ? `statement ${index}` : `statement '${statement.sid}'`;
}

/** Whether an action pattern contains a wildcard (`*`, `s3:*`, `s3:Get*`, `ec2:?escribe*`). */
export function isWildcard(action: string): boolean {
  return /[*?]/.test(action);
}

/** The service of an action (`s3` of `s3:GetObject`); `*` for the bare wildcard. */
export function serviceOf(action: string): string {
  const colon = action.indexOf(':');
  return colon === -1 ? action.toLowerCase() : action.slice(0, colon).toLowerCase();
}

// Verbs of actions that only read: AWS's own "Read" and "List" access levels follow these names.
const READ_VERBS = ['Get', 'List', 'Describe', 'Head', 'View', 'Search', 'BatchGet', 'Lookup', 'Query', 'Scan', 'Select'];

/** Whether an action (pattern) can only read: its verb is Get, List, Describe and the like; `*` and `s3:*` are not. */
export function isReadOnly(action: string): boolean {
  const colon = action.indexOf(':');
  if (colon === -1) return false;
  const verb = action.slice(colon + 1);
  return READ_VERBS.some((read) => verb.startsWith(read));
}

/** Whether a principal is anyone: `"*"` or `{ "AWS": "*" }`. */
export function isAnyone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') return false;
  const aws = (principal as Record<string, unknown>).AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

/** The service principals of a statement (`pods.eks.amazonaws.com`, ...). */
export function servicePrincipals(principal: unknown): string[] {
  if (principal === null || typeof principal !== 'object') return [];
  return strings((principal as Record<string, unknown>).Service);
}

/**
 * The values a statement's condition requires for a key under the given operators (e.g. StringEquals), or
 * undefined when it does not constrain the key. Keys compare case-insensitively, as IAM does.
 */
export function conditionValues(statement: Statement, operators: readonly string[], key: string): string[] | undefined {
  for (const operator of operators) {
    const block = statement.condition[operator];
    if (block === undefined) continue;
    const entry = Object.entries(block).find(([name]) => name.toLowerCase() === key.toLowerCase());
    if (entry !== undefined) return strings(entry[1]);
  }
  return undefined;
}
