package io.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * KarrasUnet beyond the reference fixtures: forced weight normalisation ops, the 3-D attention
 * with any attn_dim_head (the reference crashes unless heads x attn_dim_head equals the
 * channels), gradients of training graphs in every rank (Conv3D's is registered from Java), and
 * the config's JSON form and errors.
 */
class KarrasUnetTest {

  /** frames 2, 4x4, dim 4 -> 8; attention at 2x2 with attn_dim_head 3: 3 heads of 3 = 9 != 8 channels. */
  static KarrasUnetConfig tiny3d(boolean factorized) {
    return KarrasUnetConfig.builder3d(2, 4).dim(4).dimMax(8).channels(1).numDownsamples(1).numBlocksPerStage(List.of(1))
        .attnRes(List.of(2)).attnDimHead(3).fourierDim(8).factorizeSpaceTimeAttn(factorized).build();
  }

  @Test
  void weightConstraintsRenormaliseEveryMpWeight() {
    KarrasUnetConfig c = KarrasUnetConfig.builder(8).dim(8).dimMax(16).channels(2).numDownsamples(1)
        .numBlocksPerStage(List.of(1)).attnRes(List.of(4)).attnDimHead(8).fourierDim(8).numClasses(3).build();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      KarrasUnet net = KarrasUnet.create(tf, c);
      Operand<TFloat32> out = net.apply(tf, tf.constant(normal(1, 2, 8, 8, 2)), tf.constant(new float[] {0.2f, -1f}),
          null, tf.constant(new long[] {0, 2}), Forward.inference());
      List<Op> constraints = net.weightConstraints(tf);
      Parameters p = net.parameters();
      p.initialize(s, 5);
      Map<String, FloatArray> start = new LinkedHashMap<>(p.read(s));
      start.replaceAll((name, a) -> name.endsWith("gain") ? new FloatArray(a.shape(), new float[] {0.8f}) : a);
      p.write(s, start);
      FloatArray before = run(s, out);

      long mpWeights = start.keySet().stream().filter(n -> n.endsWith(".weight")).count();
      assertEquals(mpWeights, constraints.size());
      runTargets(s, constraints);
      Map<String, FloatArray> after = p.read(s);
      for (var e : after.entrySet()) {
        FloatArray w = e.getValue();
        if (!e.getKey().endsWith(".weight")) {
          assertArrayEquals(start.get(e.getKey()).data(), w.data(), 0f, e.getKey() + " is not an MP weight");
          continue;
        }
        int units = (int) w.shape()[0];
        int fanIn = w.data().length / units;
        double startOff = 0;
        for (int o = 0; o < units; o++) {
          double sq = 0;
          double startSq = 0;
          for (int i = 0; i < fanIn; i++) {
            sq += w.data()[o * fanIn + i] * w.data()[o * fanIn + i];
            startSq += Math.pow(start.get(e.getKey()).data()[o * fanIn + i], 2);
          }
          assertEquals(fanIn, sq, 1e-4 * fanIn, e.getKey() + " unit " + o);
          startOff = Math.max(startOff, Math.abs(startSq - fanIn) / fanIn);
        }
        assertTrue(startOff > 1e-2, e.getKey() + ": the randn init was not normalised to begin with");
      }
      // the forward normalises anyway: the output does not move, and renormalising again changes nothing
      assertClose(before.data(), run(s, out).data(), 1e-5);
      runTargets(s, constraints);
      Map<String, FloatArray> again = p.read(s);
      after.forEach((k, v) -> assertArrayEquals(v.data(), again.get(k).data(), 1e-5f, k));
    }
  }

  @Test
  void volumesTakeAnyAttnDimHead() {
    for (boolean factorized : new boolean[] {false, true}) {
      KarrasUnetConfig c = tiny3d(factorized);
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        KarrasUnet net = KarrasUnet.create(tf, c);
        Parameters p = net.parameters();
        String attn = factorized ? "downs.1.attn.1." : "downs.1.attn.";
        assertArrayEquals(new long[] {2, 3, 4, 3}, p.get(attn + "mem_kv").layout().torchShape());
        assertArrayEquals(new long[] {27, 8, 1, 1, 1}, p.get(attn + "to_qkv.weight").layout().torchShape());
        assertArrayEquals(new long[] {8, 9, 1, 1, 1}, p.get(attn + "to_out.weight").layout().torchShape());
        Operand<TFloat32> x = tf.constant(normal(2, 2, 2, 4, 4, 1));
        Operand<TFloat32> out = net.apply(tf, x, tf.constant(new float[] {0.5f, -0.3f}), null, Forward.inference());
        p.initialize(s, 1);
        setGains(tf, s, p, 1f);
        FloatArray y = run(s, out);
        assertArrayEquals(new long[] {2, 2, 4, 4, 1}, y.shape());
        double ms = 0;
        for (float v : y.data()) {
          assertTrue(Float.isFinite(v));
          ms += v * v;
        }
        assertTrue(ms > 0, "output is not all zeros");
      }
    }
  }

  /** Training graphs (dropout on) of every rank differentiate end to end, every trainable tensor included. */
  @Test
  void trainingGraphsHaveGradientsForEveryParameter() {
    List<KarrasUnetConfig> configs = List.of(
        KarrasUnetConfig.builder1d(8).dim(4).dimMax(8).channels(2).numDownsamples(1).numBlocksPerStage(List.of(1))
            .attnRes(List.of(4)).attnDimHead(4).fourierDim(8).selfCondition(true).build(),
        KarrasUnetConfig.builder(4).dim(4).dimMax(8).channels(1).numDownsamples(1).numBlocksPerStage(List.of(1))
            .attnRes(List.of(2)).attnDimHead(4).fourierDim(8).numClasses(2).build(),
        tiny3d(true));
    for (KarrasUnetConfig c : configs) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        KarrasUnet net = KarrasUnet.create(tf, c);
        long[] shape = inputShape(c);
        Operand<TInt64> labels = c.numClasses() > 0 ? tf.constant(new long[] {1, 0}) : null;
        Operand<TFloat32> selfCond = c.selfCondition() ? tf.constant(normal(4, shape)) : null;
        Forward train = Forward.training(tf.constant(new long[] {7, 8}));
        Operand<TFloat32> out = net.apply(tf, tf.constant(normal(3, shape)), tf.constant(new float[] {0.1f, 0.9f}),
            selfCond, labels, train);
        List<Parameters.Param> trainable = net.parameters().trainable();
        List<float[]> grads = gradients(tf, s, net, out, normal(5, shape), trainable);
        for (int i = 0; i < grads.size(); i++) {
          double sq = 0;
          for (float v : grads.get(i)) {
            assertTrue(Float.isFinite(v), trainable.get(i).name());
            sq += v * v;
          }
          assertTrue(sq > 0, c.type() + ": no gradient for " + trainable.get(i).name());
        }
      }
    }
  }

  /**
   * The 3-D net's gradients (Conv3D's registered from Java, separable trilinear resampling,
   * factorised attention of 3 heads of 3 over 8 channels) agree with finite differences, for ten
   * tensors of every kind, along u = unit(unit(g) + unit(r)) with r random. Float32 outputs leave
   * ~1e-6 noise on L = sum(out * R), i.e. ~1e-4 on Richardson-extrapolated central differences at
   * h = 1e-2 (measured: 1e-5..2e-4 on derivatives of 0.07..1.2); the check accepts
   * 1e-4 + 1% relative, and requires most checked derivatives to be clearly non-zero.
   */
  @Test
  void volumeGradientsMatchFiniteDifferences() {
    KarrasUnetConfig c = tiny3d(true);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      KarrasUnet net = KarrasUnet.create(tf, c);
      long[] shape = inputShape(c);
      Operand<TFloat32> out = net.apply(tf, tf.constant(normal(3, shape)), tf.constant(new float[] {0.1f, 0.9f}),
          null, Forward.inference());
      Operand<TFloat32> r = tf.constant(normal(5, shape));
      Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(out, r), tf.constant(axes(shape.length)));
      List<Parameters.Param> trainable = net.parameters().trainable();
      List<float[]> grads = gradients(tf, s, net, out, normal(5, shape), trainable);
      Random rnd = new Random(11);
      List<String> report = new ArrayList<>();
      int clear = 0;
      for (String name : List.of("input_block.weight", "downs.1.downsample_conv.weight", "downs.1.attn.0.mem_kv",
          "downs.1.attn.1.to_qkv.weight", "downs.1.attn.1.to_out.weight", "ups.2.block1.1.weight",
          "ups.3.res_conv.weight", "mids.0.to_emb.1.gain", "to_time_emb.1.weight", "output_block.1.gain")) {
        // moved in TensorFlow's layout by assigning the variable directly
        int slot = indexOf(trainable, name);
        Variable<TFloat32> variable = trainable.get(slot).variable();
        float[] grad = grads.get(slot);
        float[] value = run(s, variable).data();
        Placeholder<TFloat32> feed = tf.placeholder(TFloat32.class);
        Op assign = tf.assign(variable, feed);
        float[] u = direction(grad, rnd);
        double expected = 0;
        for (int i = 0; i < u.length; i++) {
          expected += grad[i] * u[i];
        }
        long[] tfShape = variable.shape().asArray();
        java.util.function.DoubleUnaryOperator lossAt = h -> {
          float[] moved = value.clone();
          for (int i = 0; i < moved.length; i++) {
            moved[i] += (float) (h * u[i]);
          }
          try (TFloat32 t = Tensors.of(tfShape, moved)) {
            s.runner().feed(feed, t).addTarget(assign).run().close();
          }
          return run(s, loss).data()[0];
        };
        double numeric = richardson(lossAt, 1e-2);
        lossAt.applyAsDouble(0);
        if (Math.abs(expected - numeric) > 1e-4 + 1e-2 * Math.abs(expected)) {
          report.add(name + ": analytic " + expected + ", numeric " + numeric);
        }
        clear += Math.abs(expected) > 1e-2 ? 1 : 0;
      }
      assertTrue(report.isEmpty(), String.join("\n", report));
      assertTrue(clear >= 8, "most checked derivatives must be clearly non-zero, got " + clear);
    }
  }

  /** Initialises the net (gains 0.7) and returns d sum(out * r) / d p for every p, in TensorFlow's layout. */
  private static List<float[]> gradients(Ops tf, Session s, KarrasUnet net, Operand<TFloat32> out,
      org.tensorflow.ndarray.FloatNdArray r, List<Parameters.Param> params) {
    Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(out, tf.constant(r)),
        tf.constant(axes(out.shape().numDimensions())));
    List<Operand<?>> wrt = new ArrayList<>();
    params.forEach(p -> wrt.add(p.variable()));
    List<Output<?>> grads = tf.gradients(loss, wrt).dy();
    net.parameters().initialize(s, 3);
    setGains(tf, s, net.parameters(), 0.7f);
    Session.Runner runner = s.runner();
    grads.forEach(runner::fetch);
    List<float[]> values = new ArrayList<>();
    try (Result res = runner.run()) {
      for (int i = 0; i < grads.size(); i++) {
        values.add(Tensors.toArray((TFloat32) res.get(i)).data());
      }
    }
    return values;
  }

  private static long[] inputShape(KarrasUnetConfig c) {
    long[] shape = new long[c.spatialRank() + 2];
    shape[0] = 2;
    System.arraycopy(c.spatialShape(), 0, shape, 1, c.spatialRank());
    shape[shape.length - 1] = c.channels();
    return shape;
  }

  @Test
  void resnetMpAddTIsHonoured() {
    // the reference accepts resnet_mp_add_t but never hands it to its blocks; here it is the t of their MP sums
    float[][] outs = new float[3][];
    double[] ts = {0.3, 0.3, 0.6};
    for (int k = 0; k < 3; k++) {
      KarrasUnetConfig.Builder b = KarrasUnetConfig.builder1d(8).dim(4).dimMax(8).channels(1).numDownsamples(1)
          .numBlocksPerStage(List.of(1)).attnRes(List.of(4)).attnDimHead(4).fourierDim(8);
      KarrasUnetConfig c = k == 0 ? b.build() : b.resnetMpAddT(ts[k]).build();
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        KarrasUnet net = KarrasUnet.create(tf, c);
        Operand<TFloat32> out = net.apply(tf, tf.constant(normal(6, 2, 8, 1)), tf.constant(new float[] {0.1f, 0.2f}),
            null, Forward.inference());
        net.parameters().initialize(s, 9);
        setGains(tf, s, net.parameters(), 1f);
        outs[k] = run(s, out).data();
      }
    }
    assertArrayEquals(outs[0], outs[1], 0f, "0.3 is the default");
    assertNotEquals(outs[0][3], outs[2][3]);
  }

  @Test
  void configJsonRoundTripsForEveryType() {
    List<KarrasUnetConfig> configs = List.of(
        KarrasUnetConfig.builder(32).build(),
        KarrasUnetConfig.builder1d(64).numClasses(10).selfCondition(true).attnRes(List.of(16)).mpCatT(0.4).build(),
        KarrasUnetConfig.builder3d(8, 16).numDownsamples(2).numBlocksPerStage(List.of(2, 1)).downsampleTypes(List.of("image", "all"))
            .factorizeSpaceTimeAttn(true).attnRes(List.of(8)).build());
    for (KarrasUnetConfig c : configs) {
      JsonObject json = c.toJson();
      NetworkConfig back = NetworkConfig.fromJson(JsonParser.parseString(json.toString()).getAsJsonObject());
      assertEquals(c, back);
      assertEquals(c.type(), json.get("type").getAsString());
    }
    KarrasUnetConfig v = configs.get(2);
    assertEquals(List.of(2, 2, 1), v.numBlocksPerStage(), "one count per downsample: the first is repeated");
    assertEquals(List.of("image", "all"), v.downsampleTypes());
    KarrasUnetConfig d = configs.get(0);
    assertEquals(192, d.dim());
    assertEquals(768, d.dimMax());
    assertEquals(4, d.channels());
    assertEquals(3, d.numDownsamples());
    assertEquals(List.of(4, 4, 4, 4), d.numBlocksPerStage());
    assertEquals(List.of(16, 8), d.attnRes());
    assertEquals(16, d.fourierDim());
    assertEquals(64, d.attnDimHead());
    assertEquals(0.1, d.dropout());
    assertEquals(0, d.numClasses());
  }

  @Test
  void configErrorsNameTheOption() {
    assertError("factorize_space_time_attn", "{\"type\": \"KarrasUnet\", \"image_size\": 32, \"factorize_space_time_attn\": true}");
    assertError("frames is required", "{\"type\": \"KarrasUnet3D\", \"image_size\": 32}");
    assertError("seq_len is required", "{\"type\": \"KarrasUnet1D\", \"image_size\": 32}");
    assertError("\"pixel\"", "{\"type\": \"KarrasUnet3D\", \"frames\": 4, \"image_size\": 8, \"num_downsamples\": 1,"
        + " \"downsample_types\": \"pixel\"}");
    assertError("frames 3 cannot be halved", "{\"type\": \"KarrasUnet3D\", \"frames\": 3, \"image_size\": 8,"
        + " \"num_downsamples\": 1}");
    assertError("image_size 12 cannot be halved at downsample 3",
        "{\"type\": \"KarrasUnet\", \"image_size\": 12}");
    assertError("num_blocks_per_stage", "{\"type\": \"KarrasUnet\", \"image_size\": 32, \"num_blocks_per_stage\": [1, 2, 3, 4]}");
    assertError("fourier_dim = 7 must be even", "{\"type\": \"KarrasUnet\", \"image_size\": 32, \"fourier_dim\": 7}");
    assertError("KarrasUnet3D", "{\"type\": \"KarrasUnet4D\", \"image_size\": 32}");
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertError(String fragment, String json) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NetworkConfig.fromJson(JsonParser.parseString(json).getAsJsonObject()));
    assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
  }

  private static double richardson(java.util.function.DoubleUnaryOperator f, double h) {
    double d1 = (f.applyAsDouble(h) - f.applyAsDouble(-h)) / (2 * h);
    double d2 = (f.applyAsDouble(h / 2) - f.applyAsDouble(-h / 2)) / h;
    return (4 * d2 - d1) / 3;
  }

  /** unit(unit(g) + unit(r)) for a random r: the derivative along it is large (~|g| / sqrt 2) and sees any error in g. */
  private static float[] direction(float[] g, Random rnd) {
    double gn = 0;
    double rn = 0;
    double[] r = new double[g.length];
    for (int i = 0; i < g.length; i++) {
      r[i] = rnd.nextGaussian();
      gn += (double) g[i] * g[i];
      rn += r[i] * r[i];
    }
    double[] d = new double[g.length];
    double dn = 0;
    for (int i = 0; i < g.length; i++) {
      d[i] = (gn > 0 ? g[i] / Math.sqrt(gn) : 0) + r[i] / Math.sqrt(rn);
      dn += d[i] * d[i];
    }
    float[] u = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      u[i] = (float) (d[i] / Math.sqrt(dn));
    }
    return u;
  }

  private static int indexOf(List<Parameters.Param> params, String name) {
    for (int i = 0; i < params.size(); i++) {
      if (params.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no trainable parameter " + name);
  }

  /** Sets every gain (0 at initialisation, which would hide everything behind it) to {@code value}. */
  private static void setGains(Ops tf, Session s, Parameters p, float value) {
    Session.Runner r = s.runner();
    p.all().stream().filter(x -> x.name().endsWith("gain"))
        .forEach(x -> r.addTarget(tf.assign(x.variable(), tf.constant(value))));
    r.run().close();
  }

  private static FloatArray run(Session s, Operand<TFloat32> o) {
    try (Result r = s.runner().fetch(o).run()) {
      return Tensors.toArray((TFloat32) r.get(0));
    }
  }

  private static void runTargets(Session s, List<Op> ops) {
    Session.Runner r = s.runner();
    ops.forEach(r::addTarget);
    r.run().close();
  }

  private static void assertClose(float[] expected, float[] actual, double tol) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol, "element " + i);
    }
  }

  private static int[] axes(int rank) {
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) {
      a[i] = i;
    }
    return a;
  }

  private static org.tensorflow.ndarray.FloatNdArray normal(long seed, long... shape) {
    Random r = new Random(seed);
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      data[i] = (float) r.nextGaussian();
    }
    return org.tensorflow.ndarray.NdArrays.wrap(org.tensorflow.ndarray.Shape.of(shape),
        org.tensorflow.ndarray.buffer.DataBuffers.of(data, true, false));
  }
}
