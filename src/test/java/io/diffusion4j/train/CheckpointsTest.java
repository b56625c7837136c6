package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.diffusion4j.Version;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

class CheckpointsTest {
  @TempDir
  Path dir;

  /**
   * A checkpoint written before the training graph gained a variable is refused naming that
   * variable and both versions; one that has every variable restores its values.
   */
  @Test
  void aCheckpointWithoutOneOfTheGraphsVariablesIsRefusedByName() throws IOException {
    Checkpoints.Info info = new Checkpoints.Info(7, TrainerOptions.builder().build(), "0.1-old", dir);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Variable<TFloat32> a = tf.withName("a").variable(Shape.scalar(), TFloat32.class);
      s.runner().addTarget(tf.assign(a, tf.constant(3f))).run().close();
      s.save(dir.resolve(Checkpoints.STATE).toString());
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Variable<TFloat32> a = tf.withName("a").variable(Shape.scalar(), TFloat32.class);
      Checkpoints.restore(info, s);
      try (TFloat32 v = (TFloat32) s.runner().fetch(a).run().get(0)) {
        assertEquals(3f, v.getFloat());
      }
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      tf.withName("a").variable(Shape.scalar(), TFloat32.class);
      tf.withSubScope("nonfinite").withName("applied").variable(Shape.scalar(), TFloat32.class);
      IOException e = assertThrows(IOException.class, () -> Checkpoints.restore(info, s));
      assertTrue(e.getMessage().startsWith(dir + " was written by diffusion4j 0.1-old and has no nonfinite/applied,"
          + " which this version (" + Version.current() + ") trains with: it cannot be resumed"), e.getMessage());
    }
  }
}
