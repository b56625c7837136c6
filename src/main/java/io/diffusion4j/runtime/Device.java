package io.diffusion4j.runtime;

import java.util.Locale;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;

/** The device a model's graph is placed on: the CPU, or GPU number {@code index}. */
public record Device(Kind kind, int index) {
  public enum Kind { CPU, GPU }

  public static final Device CPU = new Device(Kind.CPU, 0);

  public Device {
    if (index < 0) {
      throw new IllegalArgumentException("device index " + index + " must be at least 0");
    }
  }

  /** {@code cpu}, {@code gpu} (GPU 0) or {@code gpu:N}, as {@code --device} takes it. */
  public static Device parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.equals("cpu")) {
      return CPU;
    }
    if (s.matches("gpu(:\\d{1,4})?")) {
      return new Device(Kind.GPU, s.length() > 3 ? Integer.parseInt(s.substring(4)) : 0);
    }
    throw new IllegalArgumentException("--device \"" + text + "\" is not allowed: expected cpu, gpu or gpu:N");
  }

  public boolean isGpu() {
    return kind == Kind.GPU;
  }

  /** Where ops go: every op of the graph carries this device, placed softly (ops without a GPU kernel stay on the CPU). */
  DeviceSpec spec() {
    return DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.valueOf(kind.name())).deviceIndex(index).build();
  }

  /**
   * Fails with one line when this device is not there. A GPU is looked for by running one op
   * pinned to it without soft placement, which is how TensorFlow itself answers the question.
   */
  public void requirePresent() {
    if (!isGpu()) {
      return;
    }
    try (Graph g = new Graph();
        Session s = new Session(g, ConfigProto.newBuilder().setAllowSoftPlacement(false).build())) {
      var tf = Ops.create(g).withDevice(spec());
      var probe = tf.identity(tf.constant(1f));
      s.runner().fetch(probe).run().close();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--device " + this + ": TensorFlow sees no GPU " + index + " here (GPUs"
          + " need the gpu build, DIFFUSION4J_PROFILE=gpu, and CUDA 12 with cuDNN 9 on the host); use --device cpu");
    }
  }

  @Override
  public String toString() {
    return isGpu() ? "gpu:" + index : "cpu";
  }
}
