import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import {
  applyAugment,
  augmentConfig,
  augmentImage,
  DEFAULT_AUGMENT,
  IDENTITY_PARAMS,
  NO_AUGMENT,
  sampleParams,
  type AugmentParams,
} from '../../../study/data/augment.ts';

/** A size x size image whose every pixel differs: (x, y, (x*7+y*13)%256). */
function ramp(size: number): Uint8Array {
  const px = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) px.set([x * 3, y * 3, (x * 7 + y * 13) % 256], (y * size + x) * 3);
  }
  return px;
}

const at = (px: Uint8Array, size: number, x: number, y: number) => Array.from(px.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));
const params = (p: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY_PARAMS, ...p });

test("the default configuration is the study's ImageDataGenerator settings", () => {
  assert.deepEqual(
    { ...DEFAULT_AUGMENT, brightnessRange: [...DEFAULT_AUGMENT.brightnessRange] },
    {
      rotationRange: 30,
      zoomRange: 0.2,
      widthShiftRange: 0.2,
      heightShiftRange: 0.2,
      horizontalFlip: true,
      verticalFlip: true,
      brightnessRange: [0.8, 1.2],
      fill: 'constant',
    },
  );
});

test('a configuration that changes nothing returns the input bytes exactly and draws no random number', () => {
  const src = ramp(17);
  let draws = 0;
  const out = augmentImage(src, 17, NO_AUGMENT, () => {
    draws++;
    return 0.3;
  });
  assert.deepEqual(out, src);
  assert.notEqual(out, src, 'a copy, never the input itself');
  assert.equal(draws, 0);
});

test('rotation by +90 degrees turns the content counter-clockwise, exactly', () => {
  const n = 9;
  const src = ramp(n);
  const out = applyAugment(src, n, params({ rotation: 90 }));
  // Counter-clockwise: the right-middle pixel goes to the top-middle; generally out(x, y) = in(n-1-y, x).
  assert.deepEqual(at(out, n, 4, 0), at(src, n, 8, 4));
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) assert.deepEqual(at(out, n, x, y), at(src, n, n - 1 - y, x));
});

test('flips mirror the image exactly', () => {
  const n = 8;
  const src = ramp(n);
  const h = applyAugment(src, n, params({ flipH: true }));
  const v = applyAugment(src, n, params({ flipV: true }));
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      assert.deepEqual(at(h, n, x, y), at(src, n, n - 1 - x, y));
      assert.deepEqual(at(v, n, x, y), at(src, n, x, n - 1 - y));
    }
  }
});

test('a shift moves the content and fills the uncovered area with black', () => {
  const n = 10;
  const src = ramp(n).map((v) => v + 1); // no black pixel in the source
  const out = applyAugment(src, n, params({ shiftX: 3, shiftY: -2 }));
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const [sx, sy] = [x - 3, y + 2];
      const inside = sx >= 0 && sy < n;
      assert.deepEqual(at(out, n, x, y), inside ? at(src, n, sx, sy) : [0, 0, 0], `pixel ${x},${y}`);
    }
  }
});

test('rotation by 45 degrees leaves the corners black and the centre pixel in place', () => {
  const n = 21;
  const src = new Uint8Array(n * n * 3).fill(200);
  const out = applyAugment(src, n, params({ rotation: 45 }));
  assert.deepEqual(at(out, n, 0, 0), [0, 0, 0]);
  assert.deepEqual(at(out, n, n - 1, n - 1), [0, 0, 0]);
  assert.deepEqual(at(out, n, 10, 10), [200, 200, 200]);
});

test('zoom > 1 zooms out (black border), < 1 zooms in; bilinear between neighbours', () => {
  const n = 11;
  const src = new Uint8Array(n * n * 3).fill(100);
  const out = applyAugment(src, n, params({ zoomX: 1.5, zoomY: 1.5 }));
  assert.deepEqual(at(out, n, 0, 5), [0, 0, 0]);
  assert.deepEqual(at(out, n, 5, 5), [100, 100, 100]);
  // Horizontal ramp 0, 10, 20...: zoom 0.5 about the centre samples halfway between neighbours.
  const ramp10 = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) ramp10.fill(x * 10, (y * n + x) * 3, (y * n + x) * 3 + 3);
  const zoomed = applyAugment(ramp10, n, params({ zoomX: 0.5, zoomY: 0.5 }));
  assert.deepEqual(at(zoomed, n, 5, 5), [50, 50, 50]);
  assert.deepEqual(at(zoomed, n, 6, 5), [55, 55, 55]);
});

test('brightness multiplies and clips to 0..255', () => {
  const src = Uint8Array.from([10, 100, 200]);
  assert.deepEqual(applyAugment(src, 1, params({ brightness: 1.2 })), Uint8Array.from([12, 120, 240]));
  assert.deepEqual(applyAugment(src, 1, params({ brightness: 1.5 })), Uint8Array.from([15, 150, 255]));
  assert.deepEqual(applyAugment(src, 1, params({ brightness: 0.8 })), Uint8Array.from([8, 80, 160]));
});

test('same rng seed -> same bytes; another seed -> other bytes; parameters stay in their ranges', () => {
  const n = 32;
  const src = ramp(n);
  const a = augmentImage(src, n, DEFAULT_AUGMENT, seedrandom('7'));
  const b = augmentImage(src, n, DEFAULT_AUGMENT, seedrandom('7'));
  const c = augmentImage(src, n, DEFAULT_AUGMENT, seedrandom('8'));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const rng = seedrandom('ranges');
  for (let i = 0; i < 200; i++) {
    const p = sampleParams(n, DEFAULT_AUGMENT, rng);
    assert.ok(Math.abs(p.rotation) <= 30);
    assert.ok(Math.abs(p.shiftX) <= 0.2 * n && Math.abs(p.shiftY) <= 0.2 * n);
    assert.ok(p.zoomX >= 0.8 && p.zoomX <= 1.2 && p.zoomY >= 0.8 && p.zoomY <= 1.2);
    assert.ok(p.brightness >= 0.8 && p.brightness <= 1.2);
  }
});

test('every field can be overridden; bad values are rejected naming the field', () => {
  const cfg = augmentConfig({ rotationRange: 0, verticalFlip: false, brightnessRange: [1, 1] });
  assert.equal(cfg.rotationRange, 0);
  assert.equal(cfg.verticalFlip, false);
  assert.equal(cfg.zoomRange, 0.2);
  assert.deepEqual(augmentConfig({}, NO_AUGMENT), { ...NO_AUGMENT, brightnessRange: [1, 1] });
  assert.throws(() => augmentConfig({ zoomRange: -0.1 }), /zoomRange/);
  assert.throws(() => augmentConfig({ brightnessRange: [1.2, 0.8] }), /brightnessRange/);
  assert.throws(() => augmentConfig({ rotationRange: Number.NaN }), /rotationRange/);
  assert.throws(() => applyAugment(new Uint8Array(5), 2, IDENTITY_PARAMS), /expected 12/);
});
