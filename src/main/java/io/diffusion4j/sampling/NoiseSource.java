package io.diffusion4j.sampling;

import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** Standard-normal start noise of images first .. first + num - 1, a pure function of (seed, image index). */
final class NoiseSource {
  private final Session session;
  private final long[] perExample;
  private final Placeholder<TInt32> shape;
  private final Placeholder<TInt64> seed;
  private final Placeholder<TInt64> first;
  private final Operand<TFloat32> noise;

  NoiseSource(Ops tf, Session session, long[] perExample) {
    this.session = session;
    this.perExample = perExample.clone();
    shape = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(perExample.length + 1)));
    seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    first = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    noise = ImageNoise.draw(tf, seed, tf.constant(ImageNoise.START), first, shape, perExample);
  }

  FloatArray draw(long firstImage, int num, long seedValue) {
    if (num < 1) {
      throw new IllegalArgumentException("num = " + num + " must be at least 1");
    }
    if (firstImage < 0) {
      throw new IllegalArgumentException("first = " + firstImage + " must be >= 0");
    }
    int[] s = new int[perExample.length + 1];
    s[0] = num;
    for (int i = 0; i < perExample.length; i++) {
      s[i + 1] = Math.toIntExact(perExample[i]);
    }
    try (TInt32 st = TInt32.vectorOf(s); TInt64 sd = TInt64.scalarOf(seedValue); TInt64 f = TInt64.scalarOf(firstImage);
        Result r = session.runner().feed(shape, st).feed(seed, sd).feed(first, f).fetch(noise).run()) {
      return Tensors.toArray((TFloat32) r.get(0));
    }
  }
}
