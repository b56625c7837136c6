package io.diffusion4j.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough Python literal syntax for npy headers: dicts, tuples, lists, quoted strings,
 * integers (with Python 2's optional L), True, False and None (null). Errors are
 * IllegalArgumentExceptions.
 */
final class PythonLiteral {
  private final String s;
  private int pos;

  private PythonLiteral(String s) {
    this.s = s;
  }

  /** The value {@code s} spells: a Map, a List (tuples too), a String, a Long, a Boolean or null. */
  static Object parse(String s) {
    PythonLiteral p = new PythonLiteral(s);
    Object v = p.value();
    p.skipSpace();
    if (p.pos != s.length()) {
      throw p.error("unexpected text after the value");
    }
    return v;
  }

  private Object value() {
    skipSpace();
    if (pos >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(pos);
    if (c == '{') {
      return dict();
    }
    if (c == '(' || c == '[') {
      return sequence(c == '(' ? ')' : ']');
    }
    if (c == '\'' || c == '"') {
      return string(c);
    }
    if (c == '-' || Character.isDigit(c)) {
      return integer();
    }
    int begin = pos;
    while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
      pos++;
    }
    return switch (s.substring(begin, pos)) {
      case "True" -> Boolean.TRUE;
      case "False" -> Boolean.FALSE;
      case "None" -> null;
      default -> {
        pos = begin;
        throw error("unexpected character '" + c + "'");
      }
    };
  }

  private Map<Object, Object> dict() {
    pos++;
    Map<Object, Object> map = new LinkedHashMap<>();
    while (!closes('}')) {
      Object key = value();
      skipSpace();
      expect(':');
      map.put(key, value());
      separator('}');
    }
    return map;
  }

  private List<Object> sequence(char close) {
    pos++;
    List<Object> list = new ArrayList<>();
    while (!closes(close)) {
      list.add(value());
      separator(close);
    }
    return list;
  }

  /** Consumes {@code close} if it comes next. */
  private boolean closes(char close) {
    skipSpace();
    if (pos < s.length() && s.charAt(pos) == close) {
      pos++;
      return true;
    }
    return false;
  }

  /** After an element: a comma, or the closing bracket (left for {@link #closes}). */
  private void separator(char close) {
    skipSpace();
    if (pos < s.length() && s.charAt(pos) == ',') {
      pos++;
    } else if (pos >= s.length() || s.charAt(pos) != close) {
      throw error("expected ',' or '" + close + "'");
    }
  }

  private String string(char quote) {
    StringBuilder sb = new StringBuilder();
    for (pos++; pos < s.length() && s.charAt(pos) != quote; pos++) {
      if (s.charAt(pos) == '\\' && pos + 1 < s.length()) {
        pos++;
      }
      sb.append(s.charAt(pos));
    }
    expect(quote);
    return sb.toString();
  }

  private Long integer() {
    int begin = pos;
    if (s.charAt(pos) == '-') {
      pos++;
    }
    while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
      pos++;
    }
    try {
      long v = Long.parseLong(s.substring(begin, pos));
      if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
        pos++;
      }
      return v;
    } catch (NumberFormatException e) {
      pos = begin;
      throw error("bad integer");
    }
  }

  private void expect(char c) {
    if (pos >= s.length() || s.charAt(pos) != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private void skipSpace() {
    while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
      pos++;
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(what + " at offset " + pos);
  }
}
