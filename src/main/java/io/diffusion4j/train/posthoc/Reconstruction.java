package io.diffusion4j.train.posthoc;

import io.diffusion4j.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Post-hoc EMA (Karras et al. 2024, Sec. 3.2): the weights of a power-function EMA that was
 * never tracked, as the least-squares combination of tracked profiles' snapshots, at the last
 * snapshot's step. The snapshots are combined a tensor at a time.
 *
 * @param snapshots how many snapshots were combined
 * @param step the step reconstructed (the last snapshot's)
 * @param fit the coefficients (one per snapshot, in the order given) and how well they fit
 */
public record Reconstruction(int snapshots, long step, double sigmaRel, double gamma, PowerFunction.Fit fit) {
  /** The metadata key of a reconstruction's sigma_rel (snapshots and trainer EMAs lack it). */
  public static final String SIGMA_REL = "post_hoc_sigma_rel";

  /**
   * Writes to {@code out} (atomically) the EMA of {@code sigmaRel} at the last step of
   * {@code inputs}, combined from all of them.
   */
  public static Reconstruction write(List<Snapshots.Snapshot> inputs, double sigmaRel, Path out) throws IOException {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("no snapshots to combine");
    }
    double gamma = PowerFunction.gamma(sigmaRel);
    long step = inputs.stream().mapToLong(Snapshots.Snapshot::step).max().orElseThrow();
    PowerFunction.Fit fit = PowerFunction.solve(inputs.stream().map(Snapshots.Snapshot::profile).toList(),
        new PowerFunction.Profile(step, gamma));
    List<Safetensors.Index> files = new ArrayList<>();
    for (Snapshots.Snapshot s : inputs) {
      files.add(Safetensors.index(s.file()));
    }
    Map<String, long[]> shapes = files.get(0).shapes();
    for (int i = 1; i < files.size(); i++) {
      requireSameTensors(shapes, files.get(i).shapes(), inputs.get(0).file(), inputs.get(i).file());
    }
    double[] c = fit.coefficients();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put(SIGMA_REL, Double.toString(sigmaRel));
    meta.put("post_hoc_gamma", Double.toString(gamma));
    meta.put("post_hoc_step", Long.toString(step));
    meta.put("post_hoc_snapshots", Integer.toString(inputs.size()));
    Safetensors.write(out, shapes, name -> {
      // one tensor of every snapshot, summed in double
      double[] sum = null;
      for (int i = 0; i < files.size(); i++) {
        float[] w = files.get(i).read(name).data();
        if (sum == null) {
          sum = new double[w.length];
        }
        for (int j = 0; j < w.length; j++) {
          sum[j] += c[i] * w[j];
        }
      }
      float[] combined = new float[sum.length];
      for (int j = 0; j < sum.length; j++) {
        combined[j] = (float) sum[j];
      }
      return combined;
    }, meta);
    return new Reconstruction(inputs.size(), step, sigmaRel, gamma, fit);
  }

  private static void requireSameTensors(Map<String, long[]> a, Map<String, long[]> b, Path fileA, Path fileB)
      throws IOException {
    boolean same = a.keySet().equals(b.keySet())
        && a.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), b.get(e.getKey())));
    if (!same) {
      throw new IOException(fileB + " holds other tensors (names or shapes) than " + fileA
          + ": the snapshots come from different networks");
    }
  }

  /** What was done, on one line. */
  public String describe(Path out) {
    return String.format(Locale.ROOT, "combined %d snapshots into the EMA of sigma_rel %s (gamma %.4f) at"
        + " step %d: coefficients sum to %.6f (normalised to 1), fit residual %.3g%% of the profile; wrote %s",
        snapshots, sigmaRel, gamma, step, fit.rawSum(), 100 * fit.residual(), out);
  }
}
