package io.diffusion4j.sampling;

import io.diffusion4j.diffusion.Diffusion;
import io.diffusion4j.diffusion.ElucidatedDiffusion;
import io.diffusion4j.diffusion.GaussianDiffusion;
import io.diffusion4j.io.FloatArray;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The sampler for each diffusion type, and the checks every sampler makes of its inputs. */
public final class Samplers {
  private Samplers() {}

  /** Adds the sampling graph for {@code diffusion} to the graph of {@code tf}, run by {@code session}. */
  public static DiffusionSampler create(Ops tf, Session session, Diffusion diffusion) {
    if (diffusion instanceof GaussianDiffusion g) {
      return new GaussianSampler(tf, session, g);
    }
    if (diffusion instanceof ElucidatedDiffusion e) {
      return new EdmSampler(tf, session, e);
    }
    throw new IllegalArgumentException("no sampler for " + diffusion.config().type());
  }

  static void checkBatch(Diffusion diffusion, String name, FloatArray a, long[] classLabels) {
    long[] expected = diffusion.sampleShape();
    long[] shape = a.shape();
    if (shape.length != expected.length + 1 || shape[0] < 1
        || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), expected)) {
      throw new IllegalArgumentException(name + " has shape " + Arrays.toString(shape) + ", expected [N, "
          + Arrays.toString(expected).replaceAll("[\\[\\]]", "") + "] (channels-last)");
    }
    int classes = diffusion.network().numClasses();
    if (classes == 0 && classLabels != null) {
      throw new IllegalArgumentException("class labels given, but the network is not class-conditional");
    }
    if (classes > 0) {
      if (classLabels == null || classLabels.length != shape[0]) {
        throw new IllegalArgumentException("the network is class-conditional (num_classes = " + classes
            + "): give one class label per sample (" + shape[0] + ")");
      }
      for (long l : classLabels) {
        if (l < 0 || l >= classes) {
          throw new IllegalArgumentException("class label " + l + " is outside [0, " + (classes - 1) + "]");
        }
      }
    }
  }

  /**
   * Feeds a network evaluation's conditioning: the previous x0 estimate as self-conditioning
   * (when there is one and the network takes it) and the class labels (when it takes them).
   */
  static StepRun condition(StepRun runner, Operand<TFloat32> selfCond, Tensor estimate,
      Operand<TInt64> labels, TInt64 classLabels, Diffusion diffusion) {
    if (selfCond != null && estimate != null) {
      runner.feed(selfCond, estimate);
    }
    if (labels != null) {
      if (classLabels == null) {
        throw new IllegalArgumentException("the network is class-conditional (num_classes = "
            + diffusion.network().numClasses() + "): class labels are required");
      }
      runner.feed(labels, classLabels);
    }
    return runner;
  }
}
