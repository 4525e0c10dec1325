package frontend

import "net/url"

// pageWindow is one page of a list the server filters, sorts and pages.
type pageWindow struct {
	Page       int    // the page shown (the last one when the asked page is past it)
	From, To   int    // the rows of that page, [From, To)
	Prev, Next string // the neighbouring pages' URLs, "" where there is none
}

// paginate cuts page (from 1) out of total rows, size a page; at gives the
// URL of another page of the same list.
func paginate(total, page, size int, at func(page int) string) pageWindow {
	pages := max(1, (total+size-1)/size)
	w := pageWindow{Page: min(max(page, 1), pages)}
	w.From = (w.Page - 1) * size
	w.To = min(w.From+size, total)
	if w.Page > 1 {
		w.Prev = at(w.Page - 1)
	}
	if w.Page < pages {
		w.Next = at(w.Page + 1)
	}
	return w
}

// listURL is path with the non-empty values v as its query, then #anchor.
func listURL(path, anchor string, v url.Values) string {
	for k, vs := range v {
		if len(vs) == 0 || vs[0] == "" {
			delete(v, k)
		}
	}
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	return path + "#" + anchor
}
