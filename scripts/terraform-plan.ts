/**
 * Summarizes Terraform's JSON plan (`terraform show -json plan.tfplan`): counts by action, resources by
 * address grouped by action, and what deletes something (delete, replace in either order) first.
 * Pure functions: the plan script and its tests feed them parsed JSON.
 */
import { DATA_RESOURCES } from './data-risk';
import { formatPath, type Path } from './value-diff';

/** What Terraform will do to one resource instance, as this summary groups it. */
export type PlanAction = 'delete' | 'replace' | 'create' | 'update' | 'forget' | 'create-then-forget' | 'read' | 'no-op' | 'other';

/** Report order: what deletes first, what only reads or does nothing last. */
export const PLAN_ACTIONS: readonly PlanAction[] = ['delete', 'replace', 'create', 'update', 'forget', 'create-then-forget', 'read', 'no-op', 'other'];

/** One planned change of a resource instance. */
export interface PlannedChange {
  readonly address: string;
  /** Resource type, e.g. `aws_s3_bucket`. */
  readonly type: string;
  readonly mode: 'managed' | 'data';
  readonly action: PlanAction;
  /** Terraform's own list, e.g. ["create","delete"]. */
  readonly actions: readonly string[];
  /** For a replacement: which end goes first. */
  readonly order?: 'delete-before-create' | 'create-before-delete';
  /** Terraform's action_reason, as given (`replace_because_cannot_update`). */
  readonly reason?: string;
  /** The attributes that force the replacement (replace_paths), formatted like `rule[0].id`. */
  readonly replacePaths: readonly string[];
  /** The address in the previous run, when the resource was moved. */
  readonly previousAddress?: string;
  /** The instance is imported by this plan. */
  readonly importing: boolean;
  /** The key of a deposed object (left behind by a failed create-before-destroy) that is deleted. */
  readonly deposed?: string;
}

/** The summary of one plan. */
export interface PlanSummary {
  readonly counts: Readonly<Record<PlanAction, number>>;
  /** Every change except no-ops (but moves and imports), in report order (by action, then address). */
  readonly changes: readonly PlannedChange[];
  /** The changes that delete an object: delete and replace. */
  readonly destructive: readonly PlannedChange[];
  /** Resources that changed outside Terraform since the last apply (resource_drift). */
  readonly driftedOutside: readonly string[];
}

/** Thrown for input that is not a JSON plan this summarizer understands. */
export class PlanFormatError extends Error {
  override name = 'PlanFormatError';
}

interface ResourceChange {
  address?: unknown;
  type?: unknown;
  mode?: unknown;
  previous_address?: unknown;
  deposed?: unknown;
  action_reason?: unknown;
  change?: { actions?: unknown; replace_paths?: unknown; importing?: unknown };
}

/** Summarizes a parsed `terraform show -json` plan. */
export function summarizePlan(plan: unknown): PlanSummary {
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw new PlanFormatError('a JSON plan is an object, got something else');
  const { format_version: version, resource_changes: resourceChanges = [], resource_drift: drift = [] } = plan as Record<string, unknown>;
  // The format promises compatible additions within a major version, and asks consumers to refuse another major.
  if (typeof version !== 'string' || !/^1\./.test(version)) {
    throw new PlanFormatError(`format_version must be 1.x (terraform show -json of Terraform 1.x), got ${JSON.stringify(version)}`);
  }
  if (!Array.isArray(resourceChanges)) throw new PlanFormatError('resource_changes must be a list');
  const changes = (resourceChanges as ResourceChange[]).map(plannedChange);
  const counts = Object.fromEntries(PLAN_ACTIONS.map((action) => [action, 0])) as Record<PlanAction, number>;
  for (const change of changes) counts[change.action]++;
  const ordered = changes
    .filter((change) => change.action !== 'no-op' || change.previousAddress !== undefined || change.importing)
    .sort((a, b) => PLAN_ACTIONS.indexOf(a.action) - PLAN_ACTIONS.indexOf(b.action) || a.address.localeCompare(b.address));
  const driftedOutside = (Array.isArray(drift) ? (drift as ResourceChange[]) : [])
    .filter((item) => Array.isArray(item.change?.actions) && !(item.change.actions as unknown[]).every((action) => action === 'no-op'))
    .map((item) => String(item.address));
  return {
    counts,
    changes: ordered,
    destructive: ordered.filter((change) => change.action === 'delete' || change.action === 'replace'),
    driftedOutside,
  };
}

function plannedChange(item: ResourceChange): PlannedChange {
  if (typeof item.address !== 'string' || !Array.isArray(item.change?.actions)) {
    throw new PlanFormatError(`every resource change needs an address and change.actions, got ${JSON.stringify(item).slice(0, 120)}`);
  }
  const actions = item.change.actions.map(String);
  const [action, order] = classify(actions);
  const replacePaths = Array.isArray(item.change.replace_paths) ? (item.change.replace_paths as Path[]).map(formatPath) : [];
  return {
    address: item.address,
    type: typeof item.type === 'string' ? item.type : '',
    mode: item.mode === 'data' ? 'data' : 'managed',
    action,
    actions,
    ...(order === undefined ? {} : { order }),
    ...(typeof item.action_reason === 'string' ? { reason: item.action_reason } : {}),
    replacePaths,
    ...(typeof item.previous_address === 'string' ? { previousAddress: item.previous_address } : {}),
    importing: typeof item.change.importing === 'object' && item.change.importing !== null,
    ...(typeof item.deposed === 'string' ? { deposed: item.deposed } : {}),
  };
}

function classify(actions: readonly string[]): [PlanAction, PlannedChange['order']?] {
  switch (actions.join(',')) {
    case 'delete,create':
      return ['replace', 'delete-before-create'];
    case 'create,delete':
      return ['replace', 'create-before-delete'];
    case 'create,forget':
      return ['create-then-forget'];
    case 'create':
    case 'update':
    case 'delete':
    case 'forget':
    case 'read':
    case 'no-op':
      return [actions[0] as PlanAction];
    default:
      return ['other'];
  }
}

/** Why Terraform chose an action, in words (action_reason values of Terraform 1.x). */
const REASONS: Readonly<Record<string, string>> = {
  replace_because_cannot_update: 'an argument cannot be updated in place',
  replace_because_tainted: 'the object is tainted',
  replace_by_request: 'replacement was requested (-replace)',
  replace_by_triggers: 'replace_triggered_by fired',
  delete_because_no_resource_config: 'no longer in the configuration',
  delete_because_no_module: 'its module is no longer in the configuration',
  delete_because_wrong_repetition: 'count/for_each was added or removed',
  delete_because_count_index: 'its count index is out of range',
  delete_because_each_key: 'its for_each key is gone',
  delete_because_no_move_target: 'the target of its moved block does not exist',
  read_because_config_unknown: 'its arguments are known only during apply',
  read_because_dependency_pending: 'it depends on a pending change',
  read_because_check_nested: 'it is read by a check block',
};

const ACTION_TITLES: Readonly<Record<PlanAction, string>> = {
  delete: 'Delete',
  replace: 'Replace',
  create: 'Create',
  update: 'Update in place',
  forget: 'Forget (removed from state, not destroyed)',
  'create-then-forget': 'Create, then forget the old object (not destroyed)',
  read: 'Read (data sources)',
  'no-op': 'Moved or imported, nothing else changes',
  other: 'Other',
};

/** One line per change: address, order of a replacement, the forcing attributes, the reason, move and import. */
export function describeChange(change: PlannedChange): string {
  const notes: string[] = [];
  if (change.order !== undefined) notes.push(change.order === 'delete-before-create' ? 'delete, then create' : 'create, then delete');
  if (change.replacePaths.length > 0) notes.push(`forced by ${change.replacePaths.map((path) => `\`${path}\``).join(', ')}`);
  if (change.reason !== undefined) notes.push(REASONS[change.reason] ?? change.reason);
  if (change.previousAddress !== undefined) notes.push(`moved from \`${change.previousAddress}\``);
  if (change.importing) notes.push('imported');
  if (change.deposed !== undefined) notes.push(`deposed object ${change.deposed}`);
  if (change.action === 'other') notes.push(`actions ${JSON.stringify(change.actions)}`);
  return `\`${change.address}\`${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`;
}

/** `1 to delete, 2 to replace, 3 to create, …` for the actions that occur; "no changes" otherwise. */
export function countsLine(summary: PlanSummary): string {
  const words: Readonly<Record<PlanAction, string>> = {
    delete: 'to delete',
    replace: 'to replace',
    create: 'to create',
    update: 'to update',
    forget: 'to forget',
    'create-then-forget': 'to create and forget',
    read: 'to read',
    'no-op': 'unchanged',
    other: 'other',
  };
  const parts = PLAN_ACTIONS.filter((action) => summary.counts[action] > 0).map((action) => `${summary.counts[action]} ${words[action]}`);
  const changing = PLAN_ACTIONS.some((action) => action !== 'no-op' && summary.counts[action] > 0);
  return changing ? parts.join(', ') : `no changes${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** The Markdown report of the plans of an environment's stacks, destructive changes of all stacks first. */
export function renderPlanMarkdown(env: string, stacks: ReadonlyArray<{ readonly stack: string; readonly summary: PlanSummary }>): string {
  const lines = [`# Terraform plan: ${env}`, ''];
  for (const { stack, summary } of stacks) lines.push(`- **${stack}**: ${countsLine(summary)}`);
  lines.push('');
  const destructive = stacks.flatMap(({ stack, summary }) => summary.destructive.map((change) => ({ stack, change })));
  if (destructive.length > 0) {
    lines.push(`## ⚠️ Deletes or replaces (${destructive.length})`, '');
    for (const { stack, change } of destructive) {
      const loss = change.mode === 'managed' ? DATA_RESOURCES[change.type] : undefined;
      lines.push(`- **${change.action}** ${describeChange(change)} in ${stack}${loss === undefined ? '' : ` — **data**: ${loss}`}`);
    }
    lines.push('');
  }
  for (const { stack, summary } of stacks) {
    lines.push(`## ${stack}`, '', countsLine(summary), '');
    if (summary.driftedOutside.length > 0) {
      lines.push(`Changed outside Terraform since the last apply: ${summary.driftedOutside.map((address) => `\`${address}\``).join(', ')}`, '');
    }
    for (const action of PLAN_ACTIONS) {
      const group = summary.changes.filter((change) => change.action === action);
      if (group.length === 0) continue;
      lines.push(`${ACTION_TITLES[action]}:`, ...group.map((change) => `- ${describeChange(change)}`), '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
