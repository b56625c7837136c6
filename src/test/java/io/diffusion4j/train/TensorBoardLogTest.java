package io.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.proto.Summary;

class TensorBoardLogTest {
  @TempDir
  Path dir;

  @Test
  void writesCheckedRecordsWithScalarsImagesAndRestarts() throws IOException {
    BufferedImage grey = new BufferedImage(5, 3, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setSample(4, 2, 0, 200);
    try (TensorBoardLog log = new TensorBoardLog(dir.resolve("logs"))) {
      Map<String, Double> scalars = new LinkedHashMap<>();
      scalars.put("loss", 0.25);
      scalars.put("lr", 1e-4);
      log.scalars(10, scalars);
      log.image(10, "samples", grey);
      log.restart(5);
      log.flush();
    }
    List<List<Event>> files = EventFiles.read(dir.resolve("logs"));
    assertEquals(1, files.size());
    List<Event> events = files.get(0);
    assertEquals("brain.Event:2", events.get(0).getFileVersion(), "the file opens with its version");
    Map<String, Summary.Value> byTag = new LinkedHashMap<>();
    for (Event e : events) {
      for (Summary.Value v : e.getSummary().getValueList()) {
        assertEquals(10, e.getStep());
        byTag.put(v.getTag(), v);
      }
    }
    assertEquals(List.of("loss", "lr", "samples"), List.copyOf(byTag.keySet()));
    assertEquals(0.25f, byTag.get("loss").getSimpleValue());
    assertEquals(1e-4f, byTag.get("lr").getSimpleValue());
    Summary.Image image = byTag.get("samples").getImage();
    assertEquals(3, image.getHeight());
    assertEquals(5, image.getWidth());
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.getEncodedImageString().toByteArray()));
    assertEquals(200, png.getRaster().getSample(4, 2, 0), "the pixels survive");
    Event restart = events.get(events.size() - 1);
    assertEquals(SessionLog.SessionStatus.START, restart.getSessionLog().getStatus());
    assertEquals(5, restart.getStep());
  }

  @Test
  void aDamagedRecordIsDetected() throws IOException {
    try (TensorBoardLog log = new TensorBoardLog(dir.resolve("logs"))) {
      log.scalars(1, Map.of("loss", 1.0));
    }
    Path file;
    try (var list = Files.list(dir.resolve("logs"))) {
      file = list.findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 1;
    assertThrows(IOException.class, () -> EventFiles.records(bytes, file));
  }
}
