package io.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.diffusion4j.Close;
import io.diffusion4j.io.FloatArray;
import io.diffusion4j.io.Npy;
import io.diffusion4j.nn.Forward;
import io.diffusion4j.nn.Parameters;
import io.diffusion4j.nn.Tensors;
import io.diffusion4j.pipeline.DiffusionModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Weights of the reference's simple_diffusion.UViT (randomised: every constant-initialised
 * parameter drawn) load here and give its model.eval() outputs: see
 * src/test/resources/reference/make_uvit_fixtures.py. The cases cover no patching, dual
 * patchnorm with per-level downsample factors 3 and 1 and an init_dim of its own, and patching by
 * a strided conv.
 */
class UViTFixturesTest {
  static final Path DIR = Path.of("src/test/resources/reference");

  @ParameterizedTest
  @ValueSource(strings = {"uvit_basic", "uvit_dual_patchnorm", "uvit_patch_conv"})
  void outputsMatchReference(String name) throws IOException {
    Path dir = DIR.resolve(name);
    FloatArray x = Npy.read(dir.resolve("x.npy"));
    FloatArray time = Npy.read(dir.resolve("time.npy"));
    FloatArray expected = Npy.read(dir.resolve("out.npy"));
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL)) {
      Ops tf = m.ops();
      assertEquals(Files.readAllLines(dir.resolve("param_names.txt")), m.network().parameters().names(),
          "state_dict order");
      Operand<TFloat32> out = m.network().apply(tf, tf.constant(Shape.of(x.shape()), DataBuffers.of(x.data())),
          tf.constant(time.data()), null, Forward.inference());
      try (Result r = m.session().runner().fetch(out).run()) {
        FloatArray actual = Tensors.toArray((TFloat32) r.get(0));
        assertArrayEquals(expected.shape(), actual.shape());
        Close.assertClose(expected.data(), actual.data(), 2e-4);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"uvit_basic", "uvit_dual_patchnorm", "uvit_patch_conv"})
  void freshNetworkHasTheReferenceParameterCount(String name) throws IOException {
    Path dir = DIR.resolve(name);
    JsonObject reference = json(dir.resolve("reference.json"));
    NetworkConfig config = NetworkConfig.fromJson(json(dir.resolve("config.json")).getAsJsonObject("model"));
    try (Graph g = new Graph()) {
      Parameters p = config.create(Ops.create(g)).parameters();
      assertEquals(reference.get("param_tensors").getAsInt(), p.all().size());
      assertEquals(reference.get("param_count").getAsLong(), p.count());
    }
  }

  @Test
  void unsupportedSizeIsRefused() {
    UViTConfig c = UViTConfig.builder(4).dimMults(List.of(1, 2)).downsampleFactor(List.of(3, 1)).channels(3).patchSize(2).build();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Network net = c.create(tf);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1, 12, 8, 3)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.apply(tf, x, tf.constant(new float[] {0f}), null, Forward.inference()));
      assertEquals("input size [12, 8] must be divisible by 6 (patch_size 2 times the downsample factors [3, 1])",
          e.getMessage());
    }
  }

  /** Built for any size (a fully convolutional export), the network gives the same output and checks the size when it runs. */
  @Test
  void sizeUnknownWhenBuiltIsCheckedWhenRun() throws IOException {
    Path dir = DIR.resolve("uvit_dual_patchnorm");
    FloatArray x = Npy.read(dir.resolve("x.npy"));
    try (DiffusionModel m = DiffusionModel.load(dir, DiffusionModel.Weights.MODEL);
        TFloat32 tx = Tensors.of(x); TFloat32 tt = Tensors.of(Npy.read(dir.resolve("time.npy")));
        TFloat32 odd = TFloat32.tensorOf(Shape.of(2, 8, 12, 3))) {
      Ops tf = m.ops();
      Placeholder<TFloat32> px = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, -1, 3)));
      Placeholder<TFloat32> pt = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> out = m.network().apply(tf, px, pt, null, Forward.inference());
      try (Result r = m.session().runner().feed(px, tx).feed(pt, tt).fetch(out).run()) {
        Close.assertClose(Npy.read(dir.resolve("out.npy")).data(), Tensors.toArray((TFloat32) r.get(0)).data(), 2e-4);
      }
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> m.session().runner().feed(px, odd).feed(pt, tt).fetch(out).run().close());
      assertTrue(e.getMessage().contains(UViTConfig.TYPE + " input size") && e.getMessage().contains("[8 12]")
          && e.getMessage().contains("must be divisible by 6"), e.getMessage());
    }
  }

  @Test
  void configErrorsNameTheOption() {
    assertError("model: vit_dropout = 1.0 must be in [0, 1)", "{\"dim\": 8, \"vit_dropout\": 1.0}");
    assertError("model: downsample_factor = [2, 2, 2] must have one value per level (2, as dim_mults)",
        "{\"dim\": 8, \"dim_mults\": [1, 2], \"downsample_factor\": [2, 2, 2]}");
    assertError("model: out_dim = 3 must be channels * patch_size^2 = 12 with patch_size 2",
        "{\"dim\": 8, \"patch_size\": 2, \"out_dim\": 3}");
    assertError("model.patch_size = \"2\" is not allowed: expected an integer", "{\"dim\": 8, \"patch_size\": \"2\"}");
    assertError("model: unknown option init_img_transform", "{\"dim\": 8, \"init_img_transform\": \"dwt\"}");
    assertError("model.dim is required for simple_diffusion.UViT", "{}");
  }

  /**
   * PyTorch's initialisation where it is not the layers' default: Upsample's kaiming-uniform
   * weights repeated over each output channel's sub-pixels with zero bias, and FeedForward's zero
   * modulation.
   */
  @Test
  void initialisationIsTheReferences() {
    UViTConfig c = UViTConfig.builder(4).dimMults(List.of(1, 2)).downsampleFactor(List.of(3, 2)).channels(1).vitDepth(1).build();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Parameters p = c.create(Ops.create(g)).parameters();
      p.initialize(s, 5);
      Map<String, FloatArray> w = p.read(s);
      // ups.0 upsamples 8 -> 4 channels by 2, ups.1 4 -> 4 by 3
      int[][] levels = {{0, 8, 4, 2}, {1, 4, 4, 3}};
      for (int[] l : levels) {
        String name = "ups." + l[0] + ".0.net.0.";
        int in = l[1];
        int sub = l[3] * l[3];
        float[] weight = w.get(name + "weight").data();
        assertArrayEquals(new long[] {(long) l[2] * sub, in, 1, 1}, w.get(name + "weight").shape());
        double bound = Math.sqrt(6.0 / in);
        double max = 0;
        for (int o = 0; o < l[2] * sub; o++) {
          for (int i = 0; i < in; i++) {
            float v = weight[o * in + i];
            assertEquals(weight[(o - o % sub) * in + i], v, 0, name + "weight is repeated within each channel");
            max = Math.max(max, Math.abs(v));
          }
        }
        assertTrue(max <= bound && max > bound / 2, name + "weight: max |w| " + max + ", bound " + bound);
        for (float v : w.get(name + "bias").data()) {
          assertEquals(0f, v);
        }
      }
      for (String leaf : List.of("weight", "bias")) {
        for (float v : w.get("vit.layers.0.1.to_scale_shift.1." + leaf).data()) {
          assertEquals(0f, v);
        }
      }
    }
  }

  /** A training graph (dropout in attention and feed-forward) differentiates to finite gradients, and dropout acts. */
  @Test
  void trainingGradientsAreFinite() {
    UViTConfig c = UViTConfig.builder(4).dimMults(List.of(1, 2)).downsampleFactor(List.of(3, 1)).channels(3).vitDepth(2)
        .attnHeads(2).attnDimHead(4).ffMult(2).learnedSinusoidalDim(4).patchSize(2).dualPatchnorm(true)
        .vitDropout(0.3).build();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Network net = c.create(tf);
      float[] data = new float[2 * 12 * 12 * 3];
      java.util.Random rnd = new java.util.Random(3);
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) rnd.nextGaussian();
      }
      Operand<TFloat32> x = tf.constant(Shape.of(2, 12, 12, 3), DataBuffers.of(data));
      Operand<TFloat32> time = tf.constant(new float[] {-3f, 2.5f});
      Operand<TFloat32> train = net.apply(tf, x, time, null, Forward.training(tf.constant(new long[] {7, 8})));
      Operand<TFloat32> eval = net.apply(tf, x, time, null, Forward.inference());
      Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(train, x), tf.constant(new int[] {0, 1, 2, 3}));
      List<Parameters.Param> trainable = net.parameters().trainable();
      List<Operand<?>> wrt = new ArrayList<>();
      trainable.forEach(p -> wrt.add(p.variable()));
      List<Output<?>> grads = tf.gradients(loss, wrt).dy();
      net.parameters().initialize(s, 1);
      Session.Runner runner = s.runner().fetch(train).fetch(eval);
      grads.forEach(runner::fetch);
      try (Result r = runner.run()) {
        float[] trained = Tensors.toArray((TFloat32) r.get(0)).data();
        float[] evaluated = Tensors.toArray((TFloat32) r.get(1)).data();
        double moved = 0;
        for (int i = 0; i < trained.length; i++) {
          assertTrue(Float.isFinite(trained[i]));
          moved = Math.max(moved, Math.abs(trained[i] - evaluated[i]));
        }
        assertTrue(moved > 1e-4, "dropout changes the training output");
        for (int i = 0; i < grads.size(); i++) {
          for (float v : Tensors.toArray((TFloat32) r.get(2 + i)).data()) {
            assertTrue(Float.isFinite(v), trainable.get(i).name());
          }
        }
      }
    }
  }

  private static void assertError(String fragment, String model) {
    JsonObject json = JsonParser.parseString(model).getAsJsonObject();
    json.addProperty("type", UViTConfig.TYPE);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetworkConfig.fromJson(json));
    assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
  }

  private static JsonObject json(Path file) throws IOException {
    return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
  }
}
