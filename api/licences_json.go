package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/openlsc/openlsc/app"
)

// appendTreeJSON appends {"licences": …, "next": …} as gin's c.JSON
// writes it (HTML characters escaped), without reflection: an
// administrator of a large MBSA gets thousands of nodes, and reflection
// over them was a large share of the request.
func appendTreeJSON(b []byte, page app.TreePage) []byte {
	b = append(b, `{"licences":`...)
	b = appendNodes(b, page.Licences)
	b = appendOptional(b, `,"next":`, page.Next)
	return append(b, '}')
}

// treeSize is the number of nodes of tree.
func treeSize(tree []app.TreeNode) int {
	n := len(tree)
	for i := range tree {
		n += len(tree[i].Children)
	}
	return n
}

func appendNodes(b []byte, nodes []app.TreeNode) []byte {
	b = append(b, '[')
	for i := range nodes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNode(b, &nodes[i])
	}
	return append(b, ']')
}

func appendNode(b []byte, n *app.TreeNode) []byte {
	b = append(b, `{"number":`...)
	b = appendString(b, n.Number)
	b = append(b, `,"program":`...)
	b = appendString(b, string(n.Program))
	b = appendOptional(b, `,"name":`, n.Name)
	b = appendOptional(b, `,"starts":`, n.Starts)
	b = appendOptional(b, `,"ends":`, n.Ends)
	b = append(b, `,"permissions":`...)
	if n.Permissions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range n.Permissions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(p))
		}
		b = append(b, ']')
	}
	b = append(b, `,"inherited":`...)
	b = strconv.AppendBool(b, n.Inherited)
	b = appendOptional(b, `,"parent":`, n.Parent)
	b = append(b, `,"expired":`...)
	b = strconv.AppendBool(b, n.Expired)
	if len(n.Children) > 0 {
		b = append(b, `,"children":`...)
		b = appendNodes(b, n.Children)
	}
	if n.ChildCount > 0 {
		b = append(b, `,"children_count":`...)
		b = strconv.AppendInt(b, int64(n.ChildCount), 10)
	}
	b = appendOptional(b, `,"next":`, n.Next)
	return append(b, '}')
}

// appendOptional appends key and s unless s is empty (omitempty).
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json escapes
// it: control characters, quotes, backslashes, <, > and &, U+2028 and
// U+2029; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
