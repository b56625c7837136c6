package io.diffusion4j.nn;

import java.util.Arrays;
import java.util.function.BiFunction;
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

  /** A float32 scalar of {@code tf}'s graph. */
  public static Value of(Ops tf, double scalar) {
    return of(tf, tf.constant((float) scalar));
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

  public Value plus(double term) {
    return of(tf, tf.math.add(operand(), tf.constant((float) term)));
  }

  public Value minus(Value other) {
    return of(tf, tf.math.sub(operand(), other.operand()));
  }

  public Value minus(double term) {
    return of(tf, tf.math.sub(operand(), tf.constant((float) term)));
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

  public Value log() {
    return of(tf, tf.math.log(operand()));
  }

  public Value neg() {
    return of(tf, tf.math.neg(operand()));
  }

  public Value square() {
    return of(tf, tf.math.square(operand()));
  }

  /** (this - other)^2, as one op. */
  public Value squaredDifference(Value other) {
    return of(tf, tf.math.squaredDifference(operand(), other.operand()));
  }

  public Value pow(double exponent) {
    return of(tf, tf.math.pow(operand(), tf.constant((float) exponent)));
  }

  public Value sqrt() {
    return of(tf, tf.math.sqrt(operand()));
  }

  /** 1 / sqrt(this), as one op. */
  public Value rsqrt() {
    return of(tf, tf.math.rsqrt(operand()));
  }

  public Value tanh() {
    return of(tf, tf.math.tanh(operand()));
  }

  public Value sigmoid() {
    return of(tf, tf.math.sigmoid(operand()));
  }

  public Value min(double bound) {
    return of(tf, tf.math.minimum(operand(), tf.constant((float) bound)));
  }

  public Value max(double bound) {
    return of(tf, tf.math.maximum(operand(), tf.constant((float) bound)));
  }

  /** Clamped to [lo, hi]. */
  public Value clamp(double lo, double hi) {
    return of(tf, tf.clipByValue(operand(), tf.constant((float) lo), tf.constant((float) hi)));
  }

  /** Channels {@code from} .. {@code from + count - 1} of a channels-last value. */
  public Value channels(int from, int count) {
    int rank = operand().shape().numDimensions();
    int[] begin = new int[rank];
    int[] size = new int[rank];
    Arrays.fill(size, -1);
    begin[rank - 1] = from;
    size[rank - 1] = count;
    return of(tf, tf.slice(operand(), tf.constant(begin), tf.constant(size)));
  }

  /** An op that has no formula of its own here (a slice, a reduction), applied to this value. */
  public Value apply(BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> op) {
    return of(tf, op.apply(tf, operand()));
  }

  public Value zerosLike() {
    return of(tf, tf.zerosLike(operand()));
  }

  @Override
  public String toString() {
    return operand == null ? Double.toString(number) : operand.toString();
  }
}
