import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { UserError } from '../../../common/errors.ts';
import { decodeImage } from '../../../study/data/decode.ts';
import { realDataOrSkip } from '../../helpers/real-data.ts';
import { tempDir } from './fixtures.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

const S = 64;

function pixel(px: Uint8Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [px[i]!, px[i + 1]!, px[i + 2]!];
}

function near(actual: number[], expected: number[], tol: number, what: string): void {
  assert.ok(
    actual.every((v, i) => Math.abs(v - expected[i]!) <= tol),
    `${what}: ${actual} is not within ${tol} of ${expected}`,
  );
}

/** Left half red, right half blue, S x S: any rotation would move the colours. */
async function halves(): Promise<Buffer> {
  const raw = Buffer.alloc(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) raw.set(x < S / 2 ? [220, 20, 20] : [20, 20, 220], (y * S + x) * 3);
  return raw;
}

test('grayscale PNG -> 3 equal channels', async () => {
  const path = join(dir, 'gray.png');
  await sharp(Buffer.alloc(S * S, 100), { raw: { width: S, height: S, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(path);
  assert.equal((await sharp(path).metadata()).channels, 1);
  const px = await decodeImage(path, S);
  assert.equal(px.length, S * S * 3);
  assert.ok(px.every((v) => v === 100));
});

test('RGBA PNG -> alpha dropped, not composited', async () => {
  const path = join(dir, 'rgba.png');
  await sharp({ create: { width: S, height: S, channels: 4, background: { r: 200, g: 50, b: 25, alpha: 0.5 } } })
    .png()
    .toFile(path);
  assert.equal((await sharp(path).metadata()).channels, 4);
  const px = await decodeImage(path, S);
  assert.equal(px.length, S * S * 3);
  assert.deepEqual(pixel(px, S, 10, 10), [200, 50, 25]);
  assert.deepEqual(pixel(px, S, 63, 63), [200, 50, 25]);
});

test('palette PNG -> RGB', async () => {
  const path = join(dir, 'palette.png');
  await sharp({ create: { width: S, height: S, channels: 3, background: { r: 10, g: 200, b: 90 } } })
    .png({ palette: true })
    .toFile(path);
  assert.equal((await sharp(path).metadata()).isPalette, true);
  const px = await decodeImage(path, S);
  near(pixel(px, S, 5, 5), [10, 200, 90], 4, 'palette colour');
});

test('CMYK JPEG -> sRGB close to the original colour', async () => {
  const path = join(dir, 'cmyk.jpg');
  await sharp({ create: { width: S, height: S, channels: 3, background: { r: 200, g: 120, b: 60 } } })
    .toColourspace('cmyk')
    .jpeg({ quality: 95 })
    .toFile(path);
  assert.equal((await sharp(path).metadata()).space, 'cmyk');
  const px = await decodeImage(path, S);
  assert.equal(px.length, S * S * 3);
  near(pixel(px, S, 32, 32), [200, 120, 60], 30, 'CMYK round trip');
});

test('an EXIF orientation tag is ignored: the pixels are taken as stored', async () => {
  const path = join(dir, 'exif6.jpg');
  await sharp(await halves(), { raw: { width: S, height: S, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(path);
  assert.equal((await sharp(path).metadata()).orientation, 6);
  const px = await decodeImage(path, S);
  // Rotated by 90 degrees the red half would be at the top; as stored it stays on the left.
  near(pixel(px, S, 8, 8), [220, 20, 20], 12, 'top left');
  near(pixel(px, S, 8, 56), [220, 20, 20], 12, 'bottom left');
  near(pixel(px, S, 56, 8), [20, 20, 220], 12, 'top right');
});

test('resize to size x size (bilinear, aspect ratio not kept)', async () => {
  const path = join(dir, 'wide.png');
  await sharp(await halves(), { raw: { width: S, height: S, channels: 3 } })
    .resize(128, 32, { fit: 'fill', kernel: 'nearest' })
    .png()
    .toFile(path);
  const px = await decodeImage(path, 32);
  assert.equal(px.length, 32 * 32 * 3);
  assert.deepEqual(pixel(px, 32, 2, 16), [220, 20, 20]);
  assert.deepEqual(pixel(px, 32, 29, 16), [20, 20, 220]);
});

test('truncated JPEG, garbage and missing files: UserError naming the file', async () => {
  const good = join(dir, 'good.jpg');
  await sharp(await halves(), { raw: { width: S, height: S, channels: 3 } })
    .jpeg()
    .toFile(good);
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.jpg');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const garbage = join(dir, 'garbage.jpg');
  writeFileSync(garbage, 'this is not an image');
  for (const path of [truncated, garbage, join(dir, 'absent.jpg')]) {
    await assert.rejects(decodeImage(path, S), (e: Error) => {
      assert.ok(e instanceof UserError, `${path}: ${e}`);
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
  }
});

test('real images: a truncated copy is rejected; EXIF-tagged files decode as stored', async (t) => {
  const root = realDataOrSkip(t);
  if (!root) return;
  const real = join(root, 'train', 'benign', '100.jpg');
  const bytes = readFileSync(real);
  const truncated = join(dir, 'real-truncated.jpg');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 2000));
  await assert.rejects(decodeImage(truncated, 224), (e: Error) => e instanceof UserError && e.message.includes(truncated));

  const px = await decodeImage(real, 224);
  const plain = await sharp(real).raw().toBuffer();
  assert.ok(Buffer.from(px).equals(plain), 'a 224 px image is not resampled');

  // train/malignant/740.jpg carries orientation 6 ("rotate 90 degrees"); the study saw it unrotated.
  const tagged = join(root, 'train', 'malignant', '740.jpg');
  assert.equal((await sharp(tagged).metadata()).orientation, 6);
  const asStored = await decodeImage(tagged, 224);
  assert.ok(Buffer.from(asStored).equals(await sharp(tagged, { autoOrient: false }).raw().toBuffer()));
  assert.ok(!Buffer.from(asStored).equals(await sharp(tagged).autoOrient().raw().toBuffer()));
});
