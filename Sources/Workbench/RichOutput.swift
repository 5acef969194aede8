import Foundation
import Script

/// Rich notebook output: records as HTML tables beside their text (nested records nested, long
/// lists shortened with their length), everything escaped.
enum RichOutput {
  /// The MIME bundle of a cell's result: text/plain, and text/html for records.
  static func bundle(_ v: Value) -> [String: Any] {
    var data: [String: Any] = ["text/plain": v.description]
    if case .record(let r) = v { data["text/html"] = table(r) }
    return data
  }

  /// A record as an HTML table of field and value.
  static func table(_ r: Record, depth: Int = 0) -> String {
    var html = "<table class=\"svfap-record\">"
    for (key, value) in r.pairs {
      html += "<tr><th style=\"text-align:left\">\(escape(key))</th><td style=\"text-align:left\">"
      if case .record(let inner) = value, depth < 4 {
        html += table(inner, depth: depth + 1)
      } else {
        html += escape(cell(value))
      }
      html += "</td></tr>"
    }
    return html + "</table>"
  }

  /// A value in a table cell: numbers to four significant digits, lists of up to 8 items, longer
  /// ones shortened with their length.
  static func cell(_ v: Value) -> String {
    switch v {
    case .number(let x):
      guard x.isFinite, x != x.rounded() else { return Value.format(x) }
      return Value.format(x)
    case .list(let items) where items.count > 8:
      return "[" + items.prefix(8).map(cell).joined(separator: ", ") + ", … (\(items.count) items)]"
    case .list(let items): return "[" + items.map(cell).joined(separator: ", ") + "]"
    default:
      let text = v.description
      return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
  }

  /// Text safe inside HTML.
  static func escape(_ s: String) -> String {
    var out = ""
    for ch in s {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(ch)
      }
    }
    return out
  }
}

/// Where a notebook front end shows displays that are updated in place (the kernel's
/// `display_data` with a `display_id`, then `update_display_data`): training progress and live
/// curves. Nil outside a notebook kernel.
public typealias NotebookDisplay = (_ id: String, _ data: [String: Any], _ update: Bool) -> Void
