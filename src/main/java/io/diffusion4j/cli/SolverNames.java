package io.diffusion4j.cli;

import io.diffusion4j.sampling.Solver;
import io.diffusion4j.sampling.Solvers;
import java.util.Iterator;

/** The catalogue's solver names, for picocli's help (${COMPLETION-CANDIDATES}) and completion. */
final class SolverNames implements Iterable<String> {
  @Override
  public Iterator<String> iterator() {
    return Solvers.all().stream().map(Solver::name).iterator();
  }
}
