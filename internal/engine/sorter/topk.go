package sorter

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TopK returns the first k documents of docs in sort order (ties keep their order in docs),
// without sorting the whole slice: a bounded heap keeps the best k seen so far. It is what
// $sort followed by $limit, or find with sort and limit, computes. k <= 0 means no limit.
// docs is not modified.
func TopK(docs []bson.D, s *Sorter, k int) ([]bson.D, error) {
	if k <= 0 || k >= len(docs) {
		out := slices.Clone(docs)
		if err := SortDocs(out, s); err != nil {
			return nil, err
		}
		return out, nil
	}
	t := NewTop(s, k)
	for _, d := range docs {
		if err := t.Push(d); err != nil {
			return nil, err
		}
	}
	return t.Result(), nil
}

// Top accumulates the first k documents in sort order from a stream of documents. Ties
// keep arrival order. It is not safe for concurrent use.
type Top struct {
	s       *Sorter
	k       int
	h       topHeap
	seq     uint64
	scratch []any // key buffer reused for documents that do not make the cut
	arena   []any // preallocated key buffers, so keeping n documents costs few allocations
	ks      keyScratch
}

// NewTop returns an empty Top keeping the first k documents; k <= 0 keeps all of them
// (Result then is a plain stable sort).
func NewTop(s *Sorter, k int) *Top {
	t := &Top{s: s, k: k}
	t.h.s = s
	return t
}

// Push offers one document. It fails only when the document's sort key cannot be
// extracted (parallel arrays).
func (t *Top) Push(doc bson.D) error {
	if t.scratch == nil {
		n := len(t.s.fields)
		if len(t.arena) < n {
			chunk := 256
			if t.k > 0 && t.k < chunk {
				chunk = t.k + 1 // k kept keys plus the scratch buffer
			}
			t.arena = make([]any, chunk*n)
		}
		t.scratch, t.arena = t.arena[:n:n], t.arena[n:]
	}
	if err := t.s.keyInto(doc, t.scratch, &t.ks); err != nil {
		return err
	}
	seq := t.seq
	t.seq++
	if t.k <= 0 {
		// Unbounded: keep everything; Result sorts once.
		t.h.items = append(t.h.items, topItem{key: t.scratch, doc: doc, seq: seq})
		t.scratch = nil
		return nil
	}
	if len(t.h.items) < t.k {
		key := t.scratch
		t.scratch = nil
		t.h.push(topItem{key: key, doc: doc, seq: seq})
		return nil
	}
	// Full: the root is the worst kept document. A newcomer replaces it only if strictly
	// better; on a tie the earlier document wins, which keeps the result stable.
	root := &t.h.items[0]
	if t.s.compareVals(t.scratch, root.key) >= 0 {
		return nil
	}
	old := root.key
	root.key, root.doc, root.seq = t.scratch, doc, seq
	t.scratch = old
	t.h.down(0)
	return nil
}

// Len returns how many documents are kept.
func (t *Top) Len() int { return len(t.h.items) }

// Result returns the kept documents in sort order. The Top stays usable.
func (t *Top) Result() []bson.D {
	items := slices.Clone(t.h.items)
	slices.SortFunc(items, func(a, b topItem) int {
		if c := t.s.compareVals(a.key, b.key); c != 0 {
			return c
		}
		return cmpSeq(a.seq, b.seq)
	})
	out := make([]bson.D, len(items))
	for i, it := range items {
		out[i] = it.doc
	}
	return out
}

type topItem struct {
	key []any
	doc bson.D
	seq uint64
}

// topHeap is a max-heap: the root is the document that would be dropped first (the
// largest key, and among equal keys the latest arrival).
type topHeap struct {
	s     *Sorter
	items []topItem
}

// worse reports whether item i would be dropped before item j.
func (h *topHeap) worse(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if c := h.s.compareVals(a.key, b.key); c != 0 {
		return c > 0
	}
	return a.seq > b.seq
}

func (h *topHeap) push(it topItem) {
	h.items = append(h.items, it)
	for i := len(h.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.worse(i, parent) {
			break
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *topHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h.worse(r, l) {
			c = r
		}
		if !h.worse(c, i) {
			return
		}
		h.items[i], h.items[c] = h.items[c], h.items[i]
		i = c
	}
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
