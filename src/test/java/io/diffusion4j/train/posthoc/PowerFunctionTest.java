package io.diffusion4j.train.posthoc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.train.posthoc.PowerFunction.Profile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The closed forms of App. C.2, in double precision. */
class PowerFunctionTest {

  /** Eq. 123 and its inverse (Eq. 126, Algorithm 2) round-trip, and give EDM2's exponents. */
  @Test
  void gammaAndSigmaRelRoundTrip() {
    for (double s : new double[] {1e-4, 0.01, 0.05, 0.08, 0.10, 0.2, 0.28}) {
      assertEquals(s, PowerFunction.sigmaRel(PowerFunction.gamma(s)), 1e-15 * s, "sigma_rel " + s);
    }
    for (double g : new double[] {0.01, 1, 6.94, 16.97, 1000}) {
      assertEquals(g, PowerFunction.gamma(PowerFunction.sigmaRel(g)), 1e-9 * g, "gamma " + g);
    }
    // the largest real roots of the cubic, as numpy's roots gives them
    assertEquals(16.972198602303447, PowerFunction.gamma(0.05), 1e-12);
    assertEquals(6.937203937601809, PowerFunction.gamma(0.10), 1e-12);
    assertEquals(Math.sqrt(1.0 / 12), PowerFunction.sigmaRel(0), 1e-16);
  }

  @Test
  void sigmaRelOutsideTheOpenIntervalIsRefused() {
    for (double s : new double[] {0, -0.1, PowerFunction.MAX_SIGMA_REL, 0.3, Double.NaN}) {
      var e = assertThrows(IllegalArgumentException.class, () -> PowerFunction.gamma(s));
      assertTrue(e.getMessage().startsWith("sigma_rel = " + s + " must be in (0, 0.288675)"), e.getMessage());
    }
  }

  /** beta_t multiplied out over steps tau + 1..t gives (tau / t)^(gamma + 1): the profile the paper integrates. */
  @Test
  void updateWeightsCompoundToThePowerFunction() {
    double gamma = PowerFunction.gamma(0.08);
    assertEquals(1, PowerFunction.updateWeight(gamma, 1));
    double product = 1;
    for (long t = 11; t <= 1000; t++) {
      product *= 1 - PowerFunction.updateWeight(gamma, t);
    }
    assertEquals(Math.pow(10 / 1000.0, gamma + 1), product, 1e-12 * product);
    // late in a run: ~(gamma + 1) / t, to all digits
    assertEquals((gamma + 1) / 1e12, PowerFunction.updateWeight(gamma, 1_000_000_000_000L), 1e-9 * gamma / 1e12);
  }

  /** Eq. 151 against a numerical integral of the two weighting functions. */
  @Test
  void innerProductIsTheIntegralOfTheProfiles() {
    Profile a = new Profile(600, PowerFunction.gamma(0.05));
    Profile b = new Profile(1000, PowerFunction.gamma(0.10));
    int n = 200_000;
    double integral = 0;
    for (int k = 0; k < n; k++) {
      double tau = (k + 0.5) * 1000.0 / n;
      integral += weight(a, tau) * weight(b, tau) * 1000.0 / n;
    }
    assertEquals(integral, PowerFunction.innerProduct(a, b), 1e-6 * integral);
    assertEquals(PowerFunction.innerProduct(a, b), PowerFunction.innerProduct(b, a), 1e-18);
  }

  private static double weight(Profile p, double tau) {
    return tau > p.step() ? 0 : (p.gamma() + 1) / p.step() * Math.pow(tau / p.step(), p.gamma());
  }

  /** A target that is one of the inputs is reproduced by that input alone. */
  @Test
  void aTargetAmongTheInputsIsReproducedExactly() {
    List<Profile> inputs = snapshots(100, 1500, 0.05, 0.10);
    Profile target = inputs.get(17);
    PowerFunction.Fit fit = PowerFunction.solve(inputs, target);
    for (int i = 0; i < inputs.size(); i++) {
      assertEquals(i == 17 ? 1 : 0, fit.coefficients()[i], 1e-9, "coefficient " + i);
    }
    assertEquals(1, fit.rawSum(), 1e-9);
    assertTrue(fit.residual() < 1e-6, "residual " + fit.residual());
  }

  /**
   * sigma_rel 0.08 at the last step from 15 snapshots each of 0.05 and 0.10: numpy's solve of
   * the same system gives a coefficient sum of 1.0000936 and a residual of 0.337%; 6 snapshots
   * each, 1.002768 and 1.75%.
   */
  @Test
  void anUntrackedProfileIsFittedClosely() {
    Profile target = new Profile(1500, PowerFunction.gamma(0.08));
    PowerFunction.Fit dense = PowerFunction.solve(snapshots(100, 1500, 0.05, 0.10), target);
    assertEquals(1.0000936272628063, dense.rawSum(), 1e-9);
    assertEquals(0.0033743075528448402, dense.residual(), 1e-8);
    PowerFunction.Fit sparse = PowerFunction.solve(snapshots(250, 1500, 0.05, 0.10), target);
    assertEquals(1.002768137917545, sparse.rawSum(), 1e-9);
    assertEquals(0.017485636767259165, sparse.residual(), 1e-8);
  }

  private static List<Profile> snapshots(long every, long last, double... sigmaRels) {
    List<Profile> out = new ArrayList<>();
    for (double s : sigmaRels) {
      for (long t = every; t <= last; t += every) {
        out.add(new Profile(t, PowerFunction.gamma(s)));
      }
    }
    return out;
  }
}
