/**
 * Golden manifests in S3: `s3://<bucket>/<prefix><ami-id>.json` (a versioned bucket), read on demand,
 * validated like the local files (zod schema, the amiId must match the key).
 *
 * Caching, for warm Lambda invocations:
 * - an ETag cache (kept for the life of the store): a later read sends `If-None-Match` and reuses
 *   the parsed manifest on `304 Not Modified`, so an unchanged manifest is neither downloaded nor
 *   parsed again;
 * - an in-run memo, so that one run reads each AMI's manifest once however many instances use it
 *   (concurrent reads of one AMI share one request). `startRun()` clears it at the start of a run
 *   and keeps the ETag cache. A store whose user never calls `startRun()` still revalidates a memo
 *   entry after `maxRunMs` (15 minutes, the longest a Lambda runs), so no manifest is pinned forever.
 *
 * A missing manifest and an invalid one are answers (the instance is `unknown`); any other S3 error
 * (access denied, throttled past the retries, no such bucket) is a ManifestStoreError: the audit
 * cannot be trusted without the manifests.
 */
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ManifestLookup } from '../domain/diff.ts';
import { AMI_ID, GoldenManifestSchema, indexManifest } from '../domain/manifest.ts';
import { describeJsonError, InputError, inputErrorFromZod } from '../errors.ts';
import type { ManifestStore } from '../ports.ts';
import { awsErrorName } from './aws-clients.ts';

/** A larger manifest object is refused (a manifest of 20,000 packages is a few MiB). */
export const MAX_MANIFEST_OBJECT_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_RUN_MS = 15 * 60 * 1000;
const MANIFEST_KEY = /^(ami-[0-9a-f]{8,17})\.json$/;

/** The manifests could not be read for an operational reason: the audit cannot be trusted. */
export class ManifestStoreError extends Error {
  override readonly name = 'ManifestStoreError';
}

export interface S3ManifestStoreOptions {
  readonly bucket: string;
  /** '' or ending in '/' (a missing trailing '/' is added). @default 'manifests/' */
  readonly prefix?: string;
  /** @default MAX_MANIFEST_OBJECT_BYTES (16 MiB) */
  readonly maxObjectBytes?: number;
  /** An in-run memo entry older than this is revalidated (with the ETag). @default 900000 (15 min) */
  readonly maxRunMs?: number;
  /** Clock for the memo's age. @default Date.now */
  readonly now?: () => number;
}

type Cached = { readonly etag: string; readonly lookup: ManifestLookup };

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotModified(error: unknown): boolean {
  return statusOf(error) === 304 || awsErrorName(error) === 'NotModified';
}

function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
}

function describeError(error: unknown): string {
  const name = awsErrorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return message && message !== name ? `${name}: ${message}` : name;
}

export class S3ManifestStore implements ManifestStore {
  readonly description: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly maxObjectBytes: number;
  private readonly maxRunMs: number;
  private readonly now: () => number;
  /** amiId -> the last version read and what it said (found or invalid), across runs. */
  private readonly etags = new Map<string, Cached>();
  /** amiId (or '' for an unknown AMI) -> this run's answer, shared by concurrent readers. */
  private memo = new Map<string, { at: number; lookup: Promise<ManifestLookup> }>();

  constructor(
    private readonly s3: S3Client,
    options: S3ManifestStoreOptions,
  ) {
    const prefix = options.prefix ?? 'manifests/';
    this.bucket = options.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.maxObjectBytes = options.maxObjectBytes ?? MAX_MANIFEST_OBJECT_BYTES;
    this.maxRunMs = options.maxRunMs ?? DEFAULT_MAX_RUN_MS;
    this.now = options.now ?? Date.now;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  /** Starts a run: forgets this run's answers, keeps the ETag cache (conditional reads follow). */
  startRun(): void {
    this.memo = new Map();
  }

  get(amiId: string | undefined): Promise<ManifestLookup> {
    const key = amiId ?? '';
    const now = this.now();
    const memo = this.memo.get(key);
    if (memo && now - memo.at < this.maxRunMs) return memo.lookup;
    const lookup = amiId === undefined ? this.onlyManifest() : this.read(amiId);
    const entry = { at: now, lookup };
    this.memo.set(key, entry);
    // An operational error is not remembered: the next get tries again.
    lookup.catch(() => {
      if (this.memo.get(key) === entry) this.memo.delete(key);
    });
    return lookup;
  }

  private uri(amiId: string): string {
    return `s3://${this.bucket}/${this.prefix}${amiId}.json`;
  }

  /** An unknown AMI gets the store's only manifest, as the port says; one listing decides. */
  private async onlyManifest(): Promise<ManifestLookup> {
    const found: string[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix,
            Delimiter: '/',
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (error) {
        throw new ManifestStoreError(
          `${this.description}: cannot list the manifests: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
      for (const object of page.Contents ?? []) {
        const match = MANIFEST_KEY.exec(object.Key?.slice(this.prefix.length) ?? '');
        if (match) found.push(match[1] as string);
      }
      token = page.IsTruncated && found.length < 2 ? page.NextContinuationToken : undefined;
    } while (token);
    const [only] = found;
    if (found.length === 1 && only) return this.get(only);
    return {
      status: 'missing',
      detail: `the instance AMI is not known (${this.description} holds ${found.length === 0 ? 'no manifest' : 'several manifests'})`,
    };
  }

  private async read(amiId: string): Promise<ManifestLookup> {
    const uri = this.uri(amiId);
    if (!AMI_ID.test(amiId)) return { status: 'missing', detail: `no manifest for ${amiId}: not an AMI id` };
    const cached = this.etags.get(amiId);
    let response: GetObjectCommandOutput;
    try {
      response = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: `${this.prefix}${amiId}.json`,
          ...(cached ? { IfNoneMatch: cached.etag } : {}),
        }),
      );
    } catch (error) {
      if (cached && isNotModified(error)) return cached.lookup;
      if (isNotFound(error)) {
        this.etags.delete(amiId);
        return { status: 'missing', detail: `no manifest for ${amiId} (${uri} does not exist)` };
      }
      throw new ManifestStoreError(`${uri}: cannot read the manifest: ${describeError(error)}`, {
        cause: error,
      });
    }
    const etag = response.ETag;
    if (cached && etag !== undefined && etag === cached.etag) {
      // The server ignored If-None-Match; the version is the same, so is the answer.
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return cached.lookup;
    }
    const length = response.ContentLength;
    if (length !== undefined && length > this.maxObjectBytes) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return this.remember(amiId, etag, {
        status: 'invalid',
        detail: new InputError(
          uri,
          undefined,
          `is ${length} bytes, over the ${this.maxObjectBytes}-byte limit`,
        ).message,
      });
    }
    let text: string;
    try {
      text = (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      throw new ManifestStoreError(`${uri}: cannot read the manifest: ${describeError(error)}`, {
        cause: error,
      });
    }
    return this.remember(amiId, etag, this.parse(amiId, uri, text));
  }

  private parse(amiId: string, uri: string, text: string): ManifestLookup {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return {
        status: 'invalid',
        detail: new InputError(uri, undefined, describeJsonError(text, error)).message,
      };
    }
    const parsed = GoldenManifestSchema.safeParse(raw);
    if (!parsed.success) {
      return { status: 'invalid', detail: inputErrorFromZod(uri, parsed.error, 3, raw).message };
    }
    if (parsed.data.amiId !== amiId) {
      return {
        status: 'invalid',
        detail: new InputError(uri, 'amiId', `is ${parsed.data.amiId}, but the object is named for ${amiId}`)
          .message,
      };
    }
    return { status: 'found', index: indexManifest(parsed.data) };
  }

  private remember(amiId: string, etag: string | undefined, lookup: ManifestLookup): ManifestLookup {
    if (etag === undefined) this.etags.delete(amiId);
    else this.etags.set(amiId, { etag, lookup });
    return lookup;
  }
}
