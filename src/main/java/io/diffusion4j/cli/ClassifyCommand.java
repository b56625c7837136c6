package io.diffusion4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.diffusion4j.eval.FashionMnistClassifier;
import io.diffusion4j.io.Npy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code classify}: how often the shipped Fashion-MNIST classifier recognises the class each sample was asked for. */
@Command(name = "classify", mixinStandardHelpOptions = true,
    header = "Recognise the class of 28x28 grey samples with the shipped Fashion-MNIST classifier.",
    description = {"Prints one JSON line: the classes recognised and, with --expect, the share of samples",
        "recognised as the class asked for, overall and per class (read in batches)."})
final class ClassifyCommand implements Callable<Integer> {
  private static final int ROWS = 1000;

  @Spec
  CommandSpec spec;

  @Option(names = "--samples", required = true, paramLabel = "FILE.npy", description = "samples [N, 28, 28, 1] in [0, 1]")
  Path samples;

  @Option(names = "--expect", paramLabel = "K[,K...]", split = ",",
      description = "the class each sample was asked for: one for all, one per sample, or one per block of N/K samples"
          + " in order when K classes are given for N samples (as sample --class-label takes them)")
  int[] expect;

  @Override
  public Integer call() throws Exception {
    int classes = FashionMnistClassifier.CLASSES;
    if (expect != null) {
      for (int e : expect) {
        if (e < 0 || e >= classes) {
          throw new ParameterException(spec.commandLine(), "--expect " + e + " is outside 0.." + (classes - 1));
        }
      }
    }
    try (Npy.Rows rows = Npy.Rows.open(samples); var recognizer = FashionMnistClassifier.recognizer()) {
      long n = rows.shape()[0];
      if (expect != null && expect.length != 1 && expect.length != n && n % expect.length != 0) {
        throw new ParameterException(spec.commandLine(), "--expect lists " + expect.length + " classes for " + n
            + " samples: give one, one per sample, or a number that divides " + n);
      }
      long[] recognised = new long[classes];
      long[] asked = new long[classes];
      long[] right = new long[classes];
      for (long first = 0; first < n; first += ROWS) {
        int b = (int) Math.min(ROWS, n - first);
        int[] c = recognizer.classes(rows.read(first, b));
        for (int i = 0; i < b; i++) {
          recognised[c[i]]++;
          if (expect != null) {
            int e = expected(first + i, n);
            asked[e]++;
            right[e] += c[i] == e ? 1 : 0;
          }
        }
      }
      JsonObject out = new JsonObject();
      out.addProperty("samples", n);
      out.addProperty("network", FashionMnistClassifier.NAME);
      JsonArray counts = new JsonArray();
      Arrays.stream(recognised).forEach(counts::add);
      out.add("recognised", counts);
      if (expect != null) {
        out.addProperty("accuracy", (double) Arrays.stream(right).sum() / n);
        JsonObject per = new JsonObject();
        for (int k = 0; k < classes; k++) {
          if (asked[k] > 0) {
            per.addProperty(Integer.toString(k), (double) right[k] / asked[k]);
          }
        }
        out.add("per_class", per);
      }
      spec.commandLine().getOut().println(out);
    }
    return 0;
  }

  private int expected(long i, long n) {
    if (expect.length == 1) {
      return expect[0];
    }
    return expect.length == n ? expect[(int) i] : expect[(int) (i / (n / expect.length))];
  }
}
