package io.diffusion4j.cli;

import com.google.gson.JsonObject;
import io.diffusion4j.Version;
import io.diffusion4j.data.IdxDataset;
import io.diffusion4j.eval.FashionMnistClassifier;
import io.diffusion4j.train.ClassifierTraining;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code train-fid-classifier}: how saved_models/fashion-mnist-classifier/1 was made (a maintenance command). */
@Command(name = "train-fid-classifier", hidden = true, mixinStandardHelpOptions = true,
    header = "Train the Fashion-MNIST classifier behind the offline FD and KID.",
    description = {"It reports the test accuracy and writes the classifier as a SavedModel (how",
        "saved_models/fashion-mnist-classifier/1 was made)."})
final class TrainClassifierCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", required = true, paramLabel = "DIR", description = "folder with Fashion-MNIST's"
      + " train-* and t10k-* idx files (apt-get install dataset-fashion-mnist puts them in"
      + " /usr/share/datasets/fashion-mnist)")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "the SavedModel folder to write")
  Path out;

  @Option(names = "--epochs", paramLabel = "N", description = "default 12") Integer epochs;
  @Option(names = "--batch-size", paramLabel = "B", description = "default 128") Integer batchSize;
  @Option(names = "--lr", paramLabel = "LR", description = "Adam's peak learning rate (cosine decay), default 1e-3")
  Double lr;
  @Option(names = "--seed", paramLabel = "S", description = "default 0") Long seed;

  @Override
  public Integer call() throws Exception {
    ClassifierTraining.Options d = ClassifierTraining.Options.defaults();
    ClassifierTraining.Options options = new ClassifierTraining.Options(epochs != null ? epochs : d.epochs(),
        batchSize != null ? batchSize : d.batchSize(), lr != null ? lr : d.lr(), seed != null ? seed : d.seed());
    IdxDataset train = IdxDataset.open(file("train-images-idx3-ubyte"), file("train-labels-idx1-ubyte"));
    IdxDataset test = IdxDataset.open(file("t10k-images-idx3-ubyte"), file("t10k-labels-idx1-ubyte"));
    PrintStream log = System.err;
    log.println("training " + FashionMnistClassifier.NAME + " on " + train.describe());
    ClassifierTraining.Outcome outcome = ClassifierTraining.train(train, test, options, log);
    JsonObject info = new JsonObject();
    info.addProperty("name", FashionMnistClassifier.NAME);
    info.addProperty("test_accuracy", outcome.testAccuracy());
    info.addProperty("test_images", test.size());
    info.addProperty("input", "images [N, 28, 28, 1] float32 in [0, 1]");
    info.addProperty("features", "signature 'features': features [N, 128] (penultimate layer, the default),"
        + " conv_features [N, 64]; signature 'classify': logits [N, 10]");
    info.addProperty("trained", String.format(Locale.ROOT, "Adam (betas 0.9, 0.999; lr %s decayed to 0 along a"
        + " cosine), batch %d, %d epochs, dropout %s before the last layer, seed %d, on the %d labelled Fashion-MNIST"
        + " training images", options.lr(), options.batchSize(), options.epochs(), FashionMnistClassifier.DROPOUT,
        options.seed(), train.size()));
    info.addProperty("command", "tools/diffusion4j train-fid-classifier --data " + data + " --out " + out
        + " --epochs " + options.epochs() + " --batch-size " + options.batchSize() + " --lr " + options.lr()
        + " --seed " + options.seed());
    info.addProperty("diffusion4j", Version.current());
    ClassifierTraining.export(outcome.weights(), info, out);
    spec.commandLine().getOut().printf(Locale.ROOT, "test accuracy %.4f on %d images; wrote %s%n",
        outcome.testAccuracy(), test.size(), out);
    return 0;
  }

  /** The idx file {@code name}, gzip-compressed or not. */
  private Path file(String name) throws IOException {
    for (String candidate : new String[] {name + ".gz", name}) {
      if (Files.isRegularFile(data.resolve(candidate))) {
        return data.resolve(candidate);
      }
    }
    throw new FileNotFoundException("--data " + data + " has no " + name + "(.gz)");
  }
}
