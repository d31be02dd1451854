import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImage, IMAGE_FILES, pipelineImage, pipelineImageTag, SPARK_WORK_DIR } from './image';
import { SPARK_VERSION } from './spark';

const dockerfile = readFileSync(join(__dirname, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);

describe('the pipeline image', () => {
  it("starts from the official Spark image of the platform's Spark release, by an exact tag", () => {
    expect(baseImage()).toMatch(new RegExp(`^docker\\.io/library/spark:${SPARK_VERSION.replaceAll('.', '\\.')}-[\\w.-]+$`));
    expect(stages.map((stage) => stage.split('\n')[0])).toEqual(['${SPARK_IMAGE} AS jars', '${SPARK_IMAGE}']);
  });

  it('fetches exactly the jars of the lock file the local engines use, each checked by fetch_jars.py', () => {
    expect(stages[0]).toContain('COPY jars.lock.tsv fetch_jars.py /build/');
    expect(stages[0]).toMatch(/^RUN python3 \/build\/fetch_jars\.py \/build\/jars\.lock\.tsv "\$\{MAVEN_REPOSITORY\}" \/tmp\/jars$/m);
    expect(stages[1]).toContain('COPY --from=jars --chown=0:0 --chmod=0644 /tmp/jars/ /opt/spark/jars/');
    // Every file the build reads is one the tag is computed from.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \/\S+\/$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied.every((file) => (IMAGE_FILES as readonly string[]).includes(file))).toBe(true);
  });

  it("runs as Spark's non-root user in its working directory, and holds no credentials", () => {
    expect(stages[1]).toMatch(/^USER 185:185$/m);
    expect(stages[1]).toContain(`WORKDIR ${SPARK_WORK_DIR}`);
    expect(dockerfile).not.toMatch(/^(ENV|ARG) \S*(KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL)/im);
  });

  it('is tagged by its content: any image file changed is a new tag, anything else changed is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-image-'));
    try {
      cpSync(__dirname, dir, { recursive: true, filter: (source) => !source.includes('__pycache__') });
      const tag = pipelineImageTag(dir);
      expect(tag).toMatch(/^sha-[0-9a-f]{16}$/);
      expect(tag).toBe(pipelineImageTag());
      writeFileSync(join(dir, 'driftless_runtime.py'), '# job code is published on its own, not built into the image\n');
      expect(pipelineImageTag(dir)).toBe(tag);
      for (const file of IMAGE_FILES) {
        const before = readFileSync(join(dir, file));
        writeFileSync(join(dir, file), Buffer.concat([before, Buffer.from('\n')]));
        expect(pipelineImageTag(dir), file).not.toBe(tag);
        writeFileSync(join(dir, file), before);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is referenced in the environment's own registry", () => {
    const env = { name: 'dev', aws: { accountId: '123456789012', region: 'eu-west-1' } } as const;
    expect(pipelineImage(env as never, 'sha-0123456789abcdef')).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/driftless-dev/spark:sha-0123456789abcdef');
  });
});
