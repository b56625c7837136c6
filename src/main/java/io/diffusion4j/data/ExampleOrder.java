package io.diffusion4j.data;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The infinite, shuffled stream of examples a training run sees, as a pure function of the seed:
 * position g falls in epoch e = g / n and shows example perm_e[g % n], where perm_e is a
 * Fisher-Yates shuffle seeded by (seed, e); with flipping, a coin seeded by (seed, g) decides the
 * mirror image. Because nothing depends on what was read before, a resumed run sees exactly the
 * examples an uninterrupted one would.
 */
final class ExampleOrder {
  private static final long PERMUTATION = 0x5045524d5554L;
  private static final long FLIP = 0x464c4950L;

  private final int n;
  private final long seed;
  /** The last few epochs' permutations: batches straddle epochs, and threads run ahead. */
  private final Map<Long, int[]> recent = new LinkedHashMap<>(8, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, int[]> eldest) {
      return size() > 4;
    }
  };

  ExampleOrder(int n, long seed) {
    this.n = n;
    this.seed = seed;
  }

  /** The dataset index at stream position {@code g}. */
  int index(long g) {
    return permutation(g / n)[(int) (g % n)];
  }

  /** Whether the example at stream position {@code g} is mirrored, for half of the positions. */
  boolean flip(long g) {
    return mix(seed ^ FLIP, g) < 0;
  }

  private synchronized int[] permutation(long epoch) {
    return recent.computeIfAbsent(epoch, e -> {
      int[] perm = new int[n];
      for (int i = 0; i < n; i++) {
        perm[i] = i;
      }
      SplittableRandom random = new SplittableRandom(mix(seed ^ PERMUTATION, e));
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      return perm;
    });
  }

  /** SplitMix64's output number {@code b} for seed {@code a}: a well-mixed hash of the pair. */
  static long mix(long a, long b) {
    long z = a + (b + 1) * 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
