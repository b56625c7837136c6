package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Denoiser;
import io.diffusion4j.io.Check;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.nn.Value;
import io.diffusion4j.sampling.solvers.Ddpm;
import java.util.Map;
import java.util.stream.IntStream;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Inpainting by RePaint (Lugmayr et al. 2022, Algorithm 1) for any model of the catalogue: DDPM steps through
 * the model's own noise levels, before each of which the known pixels are replaced by the data
 * noised to that level (the forward process), so the model fills in only the unknown ones; every
 * resample_every steps (and at the last step before 0) the sample jumps resample_jump levels back
 * up by forward noising and those steps are taken again, resample_iter times, which lets the
 * filled part harmonise with the known one. After the last step the known pixels are the data's
 * exactly.
 *
 * <p>In the sigma view both moves are simple: the known part at level sigma is x0 + sigma n, and
 * a jump from sigma_b up to sigma_a adds sqrt(sigma_a^2 - sigma_b^2) n. The session driver takes
 * the jumps as its {@link Walk}, the merge as the walk's change before each step.
 */
public final class RePaint implements DiffusionSampler {

  /** The reference's options with its sample() defaults. */
  public record Options(int resampleIter, int resampleJump, int resampleEvery) {
    public static final Options DEFAULT = new Options(10, 10, 50);

    public Options {
      Check.atLeast("resample_iter", resampleIter, 0);
      Check.atLeast("resample_jump", resampleJump, 1);
      Check.atLeast("resample_every", resampleEvery, 1);
    }
  }

  /** The known images and mask of images {@code first} .. {@code first + n - 1} of the run. */
  public interface Known {
    /** Data in [0, 1], channels-last. */
    FloatArray images(long first, int n);

    /** 1 where a pixel is kept, 0 where it is filled, of the images' shape. */
    FloatArray mask(long first, int n);
  }

  private static final Ddpm DDPM = new Ddpm();

  private final DiffusionSampler plain;
  private final SessionDriver driver;

  /**
   * @param plain the model's sampler, whose start noise this one shares
   */
  public RePaint(Ops root, Session session, DiffusionSampler plain, Known known, Options options) {
    Ops tf = root.withSubScope("repaint");
    this.plain = plain;
    this.driver = new SessionDriver(tf, session, plain.denoiser(), new Resampling(tf, plain.denoiser(), known, options));
  }

  @Override
  public Denoiser denoiser() {
    return plain.denoiser();
  }

  @Override
  public FloatArray initialNoise(long firstImage, int num, long seedValue) {
    return plain.initialNoise(firstImage, num, seedValue);
  }

  /** DDPM at eta 1 through the model's own levels, whichever solver, schedule, eta and churn {@code settings} name. */
  @Override
  public FloatArray sample(Settings settings, FloatArray noise, long firstImage, long[] classLabels) {
    return driver.sample(new Settings(DDPM, settings.steps(), Schedule.OWN, 1, settings.sNoise(), Settings.Churn.NONE,
        settings.clipDenoised(), settings.guidance(), settings.seed()), noise, firstImage, classLabels);
  }

  /** Algorithm 1's walk with its jumps, and the known part merged in before every step. */
  private static final class Resampling implements Walk {
    private final Known known;
    private final Options options;
    private final Placeholder<TFloat32> data;
    private final Placeholder<TFloat32> mask;
    private final Value normalized;
    private final Value keep;
    private final Value fill;

    Resampling(Ops tf, Denoiser d, Known known, Options options) {
      this.known = known;
      this.options = options;
      Shape batch = Shape.of(Tensors.batchShape(-1, d.sampleShape()));
      data = tf.withName("data").placeholder(TFloat32.class, Placeholder.shape(batch));
      mask = tf.withName("mask").placeholder(TFloat32.class, Placeholder.shape(batch));
      normalized = Value.of(tf, d.normalize(tf, data));
      keep = Value.of(tf, mask);
      fill = Value.of(tf, tf.math.sub(tf.constant(1f), mask));
    }

    @Override
    public int[] positions(int steps) {
      IntStream.Builder walk = IntStream.builder().add(0);
      for (int p = 1; p <= steps; p++) {
        walk.add(p);
        // t counts down to 0 as the reference's timesteps do
        int t = steps - p;
        if (t > 0 && (t % options.resampleEvery() == 0 || t == 1)) {
          for (int r = 0; r < options.resampleIter(); r++) {
            IntStream.rangeClosed(Math.max(p - options.resampleJump(), 0), p).forEach(walk);
          }
        }
      }
      return walk.build().toArray();
    }

    @Override
    public Value beforeStep(Step step, Value x, Value sigma) {
      return keep.times(normalized.plus(step.noise().times(sigma))).plus(fill.times(x));
    }

    /** The kept pixels in data space as given, not through the round trip to the model's space. */
    @Override
    public Operand<TFloat32> finish(Ops tf, Operand<TFloat32> images) {
      return keep.times(Value.of(tf, data)).plus(fill.times(Value.of(tf, images))).operand();
    }

    @Override
    public Map<Operand<TFloat32>, FloatArray> inputs(long first, int n) {
      return Map.of(data, known.images(first, n), mask, known.mask(first, n));
    }

    /** RePaint's steps evaluate as they always have here, without the last estimate. */
    @Override
    public boolean selfConditions() {
      return false;
    }
  }
}
