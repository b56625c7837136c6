package io.diffusion4j.bench;

import io.diffusion4j.nn.Upstream;
import java.util.List;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;

/**
 * The floating-point work of a graph run, counted from its convolutions and matrix products
 * (forward and backward), 2 FLOPs per multiply-add; element-wise work is not counted, as is
 * usual. Shapes are the graph's static shapes, with an unknown dimension taken as the batch size.
 */
public final class FlopCount {
  private FlopCount() {}

  /** FLOPs of everything the run of {@code targets} executes, at batch size {@code batch}. */
  public static double of(long batch, Op... targets) {
    return Upstream.of(List.of(targets)).stream().mapToDouble(op -> flops(op, batch)).sum();
  }

  /** As {@link #of(long, Op...)} for the ops that compute {@code outputs}. */
  public static double of(long batch, Operand<?>... outputs) {
    Op[] ops = new Op[outputs.length];
    for (int i = 0; i < outputs.length; i++) {
      ops[i] = outputs[i];
    }
    return of(batch, ops);
  }

  static double flops(GraphOperation op, long batch) {
    return switch (op.type()) {
      // 2 * output elements * (kernel taps * input channels): filter [k..., in, out]
      case "Conv2D", "Conv3D" -> 2 * size(op.output(0), batch) * kernelTapsTimesIn(op.input(1).shape());
      // the gradients cost a forward convolution each: out_backprop is input 2
      case "Conv2DBackpropInput", "Conv3DBackpropInputV2" ->
          2 * size(op.input(2), batch) * kernelTapsTimesIn(op.input(1).shape());
      case "Conv2DBackpropFilter", "Conv3DBackpropFilterV2" ->
          2 * size(op.input(2), batch) * kernelTapsTimesIn(op.output(0).shape());
      case "MatMul" -> 2 * size(op.output(0), batch) * inner(op, "transpose_a", batch);
      case "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3" -> 2 * size(op.output(0), batch) * inner(op, "adj_x", batch);
      default -> 0;
    };
  }

  private static double kernelTapsTimesIn(Shape filter) {
    double taps = 1;
    for (int i = 0; i < filter.numDimensions() - 1; i++) {
      taps *= filter.get(i);
    }
    return taps;
  }

  /** The contracted dimension of a matrix product: a's columns (rows when transposed). */
  private static double inner(GraphOperation op, String transposeAttr, long batch) {
    Shape a = op.input(0).shape();
    int rank = a.numDimensions();
    boolean transposed = op.attributes().getAttrBool(transposeAttr);
    long k = a.get(transposed ? rank - 2 : rank - 1);
    return k < 0 ? batch : k;
  }

  private static double size(Output<?> output, long batch) {
    Shape s = output.shape();
    double n = 1;
    for (int i = 0; i < s.numDimensions(); i++) {
      n *= s.get(i) < 0 ? batch : s.get(i);
    }
    return n;
  }
}
