import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { packageStore } from '../activities/index.js';
import { directoryEntries, packDirectory } from '../adapters/package-store.js';
import { loadPolicy } from '../adapters/policy-loader.js';
import { checkSizes } from '../domain/package-checks.js';
import type { PavedConfig } from '../domain/config.js';
import { PavedError } from '../domain/errors.js';
import { MODEL_NAME } from '../domain/manifest.js';
import { VERSION_PATTERN, VERSION_RULE, workflowIdFor, type ReleaseInput } from '../domain/release.js';
import { PavedModel, PavedStage } from '../workflows/definitions.js';
import type { release } from '../workflows/release.js';
import { signDecision } from './signing.js';

export interface StartedRelease {
  handle: WorkflowHandle<typeof release>;
  workflowId: string;
  model: string;
  version: string;
}

/** Reads only what the client needs to name the release; the worker validates the rest. */
function readNameAndOwner(dir: string): { name: string; owner?: string } {
  const file = path.join(dir, 'paved.yaml');
  if (!existsSync(file)) {
    throw new PavedError(
      `${dir} has no paved.yaml. Fix: run \`paved init\` there, or point at a model package directory.`,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PavedError(
      `${file}: not valid YAML (${(err as Error).message.split('\n')[0]}). Fix: correct the syntax.`,
    );
  }
  const doc = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof doc.name !== 'string' || !MODEL_NAME.test(doc.name)) {
    throw new PavedError(
      `${file}: name: must be lowercase letters, digits and dashes (got ${JSON.stringify(doc.name)}). Fix: e.g. name: arrests`,
    );
  }
  return { name: doc.name, owner: typeof doc.owner === 'string' ? doc.owner : undefined };
}

/**
 * Packs the directory, puts it in the artifact store and starts (or finds) the
 * release `release/<model>/<version>`. The same content is the same version, and
 * the same id never starts twice: CI retries attach to the existing release.
 */
export async function startRelease(
  client: Client,
  config: PavedConfig,
  dir: string,
  opts: {
    version?: string;
    requestedBy: string;
    /** Sign the request with this key: the requester (and the author it names) is proven. */
    signWith?: string;
    author?: string;
  },
): Promise<StartedRelease> {
  const { name, owner } = readNameAndOwner(dir);
  // Count and size first, from the listing: a huge file is refused before it is read.
  const oversized = checkSizes(directoryEntries(dir), loadPolicy().packages);
  if (oversized.length > 0) {
    throw new PavedError(
      `${dir} is refused before packing: ${oversized.map((f) => `${f.message}. Fix: ${f.fix}`).join('; ')}`,
      2,
    );
  }
  const tarball = await packDirectory(dir);
  const ref = await packageStore(config).put(tarball);
  const version = opts.version ?? ref.digest.slice('sha256:'.length, 'sha256:'.length + 12);
  if (!VERSION_PATTERN.test(version)) {
    throw new PavedError(`--version "${version}": use ${VERSION_RULE}. Fix: e.g. --version 1.4.0`);
  }
  const workflowId = workflowIdFor(name, version);
  const input: ReleaseInput = { model: name, version, package: ref, requestedBy: opts.requestedBy };
  if (opts.signWith) {
    input.request = await signDecision(
      {
        action: 'release',
        model: name,
        version,
        package: ref.digest,
        signer: opts.requestedBy,
        ...(opts.author ? { author: opts.author } : {}),
      },
      opts.signWith,
    );
  }
  try {
    const handle = await client.workflow.start<typeof release>('release', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      // A failed run (infrastructure, not a verdict) may be retried by CI with the same id;
      // a release that ended with a verdict is final for its id.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { packageDigest: ref.digest },
      typedSearchAttributes: [
        { key: PavedModel, value: name },
        { key: PavedStage, value: 'queued' },
      ],
      staticSummary: `${name} ${version}${owner ? ` by ${owner}` : ''}`,
      staticDetails: [
        `**model** ${name}  `,
        `**version** ${version}  `,
        `**owner** ${owner ?? 'unknown'}  `,
        `**package** ${ref.digest}  `,
        `**requested by** ${opts.requestedBy}`,
      ].join('\n'),
    });
    // USE_EXISTING hands back a run that is still going without an error, so the
    // content check must look at whichever run this id now names.
    await requireSameContent(handle, name, version, ref.digest);
    return { handle, workflowId, model: name, version };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle<typeof release>(workflowId);
    await requireSameContent(handle, name, version, ref.digest);
    return { handle, workflowId, model: name, version };
  }
}

/** Refuses a version whose release was started from other content. */
async function requireSameContent(
  handle: WorkflowHandle<typeof release>,
  name: string,
  version: string,
  digest: string,
): Promise<void> {
  const earlier = (await handle.describe()).memo?.packageDigest;
  if (earlier !== undefined && earlier !== digest) {
    throw new PavedError(
      `${name}/${version} was already released from different content (${String(earlier).slice(0, 19)}…, now ${digest.slice(0, 19)}…). Fix: release it under a new --version, or leave --version out to use the content digest`,
    );
  }
}
