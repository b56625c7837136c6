package io.diffusion4j.nn;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A value of graph arithmetic written as its formula: a float tensor in the graph (a sample, a
 * denoised estimate, a noise level), or, in a solver's plan, a number computed in Java in double
 * precision (a per-step coefficient) that its step later sees as a tensor. Scalars broadcast
 * against samples. It lives here, below diffusion and sampling, so that both write formulas so.
 */
public final class Value {
  private final double number;
  private final Ops tf;
  private final Operand<TFloat32> operand;

  private Value(double number, Ops tf, Operand<TFloat32> operand) {
    this.number = number;
    this.tf = tf;
    this.operand = operand;
  }

  /** A per-step coefficient, as a plan computes it. */
  public static Value of(double number) {
    return new Value(number, null, null);
  }

  /** A tensor of {@code tf}'s graph. */
  public static Value of(Ops tf, Operand<TFloat32> operand) {
    return new Value(Double.NaN, tf, operand);
  }

  /** The number of a plan's value. */
  public double number() {
    if (operand != null) {
      throw new IllegalStateException("a graph value has no number");
    }
    return number;
  }

  /** The tensor of a step's value. */
  public Operand<TFloat32> operand() {
    if (operand == null) {
      throw new IllegalStateException("a plan's number (" + number + ") is not in a graph");
    }
    return operand;
  }

  public Value plus(Value other) {
    return of(tf, tf.math.add(operand(), other.operand()));
  }

  public Value minus(Value other) {
    return of(tf, tf.math.sub(operand(), other.operand()));
  }

  public Value times(Value other) {
    return of(tf, tf.math.mul(operand(), other.operand()));
  }

  public Value times(double factor) {
    return of(tf, tf.math.mul(operand(), tf.constant((float) factor)));
  }

  public Value div(Value other) {
    return of(tf, tf.math.div(operand(), other.operand()));
  }

  public Value exp() {
    return of(tf, tf.math.exp(operand()));
  }

  public Value zerosLike() {
    return of(tf, tf.zerosLike(operand()));
  }

  @Override
  public String toString() {
    return operand == null ? Double.toString(number) : operand.toString();
  }
}
