/**
 * The duplicates finder: the hash and its distance by hand; on real lesions, a copied, resized and recompressed
 * train image placed in test is found and different lesions are not paired; the test metrics without the leaked
 * images by hand.
 */
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  HASH_IMAGE_SIZE,
  NEAR_DUPLICATE_BITS,
  fingerprintAll,
  hammingDistance,
  leakEffect,
  pairImages,
  perceptualHash,
  type ListedImage,
} from '../../study/duplicates.ts';
import { indexDataset } from '../../study/data/dataset.ts';
import { plantedSubset } from '../helpers/planted-duplicates.ts';
import { realDataOrSkip } from '../helpers/real-data.ts';
import { first } from '../../common/indexing.ts';

describe('perceptual hash', () => {
  test('Hamming distance counts differing bits across words', () => {
    assert.equal(hammingDistance(Uint32Array.of(0, 0xffffffff), Uint32Array.of(0, 0)), 32);
    assert.equal(hammingDistance(Uint32Array.of(0b1011, 1 << 31), Uint32Array.of(0b0001, 0)), 3);
  });

  test('256 bits, 127 of the 255 non-constant frequencies set; unchanged by brightness and contrast', () => {
    const n = HASH_IMAGE_SIZE;
    const grey = Uint8Array.from({ length: n * n }, (_, i) => Math.round(128 + 60 * Math.sin((i % n) / 5) * Math.cos(Math.floor(i / n) / 9) + ((i * 37) % 17)));
    const hash = perceptualHash(grey);
    assert.equal(hash.length, 8);
    assert.equal(hammingDistance(hash, new Uint32Array(8)), 127, 'the bits above the median of 255 coefficients');
    assert.equal(hash[0]! & 1, 0, 'the constant term gives no bit');
    const dimmer = Float64Array.from(grey, (v) => v * 0.5 + 20);
    assert.equal(hammingDistance(perceptualHash(dimmer), hash), 0, 'a brighter or dimmer, weaker or stronger image keeps its bits');
    assert.throws(() => perceptualHash(new Uint8Array(10)), /64 x 64/);
  });
});

describe('duplicates of real lesions', () => {
  test('a copied, resized and recompressed train image in test is found; an identical file is exact; different lesions are not paired', async (t) => {
    const real = realDataOrSkip(t);
    if (!real) return;
    const { dir, source, planted: plantedId, twin, twinCopy } = await plantedSubset(real);
    // Two different lesions that look alike (a small dark blob on pale skin): 56 bits apart, the closest such pair
    // of the real dataset when the threshold was chosen.
    copyFileSync(join(real, 'train', 'benign', '1585.jpg'), join(dir, 'train', 'benign', 'similar-a.jpg'));
    copyFileSync(join(real, 'train', 'benign', '657.jpg'), join(dir, 'test', 'benign', 'similar-b.jpg'));
    try {
      const index = await indexDataset(dir, { warn: () => {} });
      const images: ListedImage[] = (['train', 'val', 'test'] as const).flatMap((split) => index.splits[split].map((r) => ({ id: r.id, split, path: r.path })));
      const prints = await fingerprintAll(images);
      const report = pairImages(images, prints);
      assert.deepEqual(
        report.pairs.map((p) => [p.kind, p.a, p.b]),
        [
          ['exact', twin, twinCopy],
          ['near', source, plantedId],
        ],
      );
      assert.deepEqual(report.leakedTest, [plantedId]);
      assert.equal(report.counts.find((c) => c.splits === 'train–test')!.near, 1);
      assert.equal(report.counts.find((c) => c.splits === 'within train')!.exact, 1);

      // The margin: the planted copy is far inside the threshold, the closest different lesions far outside it.
      const planted = report.pairs[1]!.distance;
      const paired = new Set([`${twin}|${twinCopy}`, `${source}|${plantedId}`]);
      let closest = Infinity;
      for (let i = 0; i < images.length; i++) {
        for (let j = i + 1; j < images.length; j++) {
          if (!paired.has(`${images[i]!.id}|${images[j]!.id}`)) closest = Math.min(closest, hammingDistance(prints[i]!.hash, prints[j]!.hash));
        }
      }
      assert.ok(planted <= NEAR_DUPLICATE_BITS / 2, `the copy is ${planted} bits from its original`);
      assert.ok(closest > NEAR_DUPLICATE_BITS + 8, `different lesions come within ${closest} bits`);
      const [a, b] = ['train/benign/similar-a.jpg', 'test/benign/similar-b.jpg'].map((id) => prints[images.findIndex((x) => x.id === id)]);
      assert.ok(a && b);
      assert.equal(hammingDistance(a.hash, b.hash), 56);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('leakEffect', () => {
  // Score = the mean probability and the number of images: easy to follow by hand.
  const score = (labels: number[], p: number[]) => ({ meanP: p.reduce((a, b) => a + b, 0) / p.length, n: labels.length });
  const images = ['test/a.jpg', 'test/b.jpg', 'test/c.jpg', 'test/d.jpg'];
  const runs = [
    { model: 'baseline', test: { images, labels: [0, 0, 1, 1], probabilities: [0.1, 0.2, 0.6, 0.9] } },
    { model: 'baseline', test: { images, labels: [0, 0, 1, 1], probabilities: [0.3, 0.2, 0.8, 0.5] } },
  ];

  test('per run with and without the leaked images, mean ± std over runs, and the ensemble', () => {
    const row = first(leakEffect(runs, new Set(['test/d.jpg']), score));
    const meanP = row.metrics.meanP!;
    const ensembleMeanP = row.ensemble.meanP!;
    assert.deepEqual([row.model, row.runs, row.images], ['baseline', 2, { all: 4, kept: 3 }]);
    // all: 1.8/4 = 0.45 and 1.8/4 = 0.45; kept: 0.9/3 = 0.3 and 1.3/3.
    assert.ok(Math.abs(meanP.all.mean - 0.45) < 1e-12);
    assert.equal(meanP.all.std, 0);
    assert.ok(Math.abs(meanP.kept.mean - (0.3 + 1.3 / 3) / 2) < 1e-12);
    assert.ok(Math.abs(meanP.kept.std - Math.abs(0.3 - 1.3 / 3) / Math.SQRT2) < 1e-12);
    assert.equal(row.metrics.n!.kept.mean, 3);
    // The ensemble: (0.2, 0.2, 0.7, 0.7); without d: (0.2 + 0.2 + 0.7) / 3.
    assert.ok(Math.abs(ensembleMeanP.kept - 1.1 / 3) < 1e-12);
    assert.ok(Math.abs(ensembleMeanP.all - 0.45) < 1e-12);
  });
});
