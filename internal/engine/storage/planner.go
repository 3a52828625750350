package storage

import (
	"regexp/syntax"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Query selects documents from a collection.
type Query struct {
	// Filter is the query as given; the planner reads it to choose an index.
	Filter bson.D
	// Matcher is the compiled Filter; every candidate is checked with it.
	Matcher *match.Matcher
	Env     *expr.Env
	// Limit stops the scan after this many matches; 0 means no limit.
	Limit int
	// Hint names an index (string) or gives its key pattern (bson.D).
	Hint any
	// Positions asks for the array position each match used (for the positional $).
	Positions bool
}

// Hit is one matching record.
type Hit struct {
	Rec *Record
	Pos int // matched array position, or -1
}

// Plan describes how a query ran, for explain.
type Plan struct {
	// Index is the name of the index used, or "" for a collection scan.
	Index        string
	KeyPattern   bson.D
	Multikey     bool
	KeysExamined int
	DocsExamined int
	Returned     int
}

// Find returns the matching records, using an index when the filter allows.
func (tx *Tx) Find(q *Query) ([]Hit, *Plan, error) {
	ix, bounds, err := tx.choose(q)
	if err != nil {
		return nil, nil, err
	}
	plan := &Plan{}
	var hits []Hit
	test := func(r *Record) (bool, error) {
		plan.DocsExamined++
		pos := -1
		ok := true
		var err error
		switch {
		case q.Matcher == nil:
		case q.Positions:
			ok, pos, err = q.Matcher.MatchPosition(r.Doc, q.Env)
		default:
			ok, err = q.Matcher.Match(r.Doc, q.Env)
		}
		if err != nil || !ok {
			return true, err
		}
		hits = append(hits, Hit{Rec: r, Pos: pos})
		return q.Limit <= 0 || len(hits) < q.Limit, nil
	}
	if ix == nil {
		tx.c.records.Ascend(func(r *Record) bool {
			more, e := test(r)
			if e != nil {
				err = e
				return false
			}
			return more
		})
	} else {
		plan.Index, plan.KeyPattern, plan.Multikey = ix.Spec.Name, ix.Spec.Key, ix.multikey
		var seen map[uint64]bool
		if ix.multikey || len(bounds[0].points) > 1 {
			seen = map[uint64]bool{}
		}
		tx.scan(ix, bounds, func(e entry) bool {
			plan.KeysExamined++
			if seen != nil {
				if seen[e.rid] {
					return true
				}
				seen[e.rid] = true
			}
			r, ok := tx.c.records.Get(&Record{RID: e.rid})
			if !ok {
				return true
			}
			more, e2 := test(r)
			if e2 != nil {
				err = e2
				return false
			}
			return more
		})
	}
	if err != nil {
		return nil, nil, err
	}
	plan.Returned = len(hits)
	return hits, plan, nil
}

// bound is what a conjunctive filter says about one field: sets of points ($eq, $in)
// and range sides ($gt, $lt, …), each from one operator.
type bound struct {
	pointSets [][]any
	sides     []side // one per range operator, in filter order
	nullish   bool   // the bound admits null (so a sparse index cannot answer it)
	unusable  bool

	// Set by resolve: the points to scan, or nil and a range.
	points         []any
	hasLo, hasHi   bool
	lo, hi         any
	loIncl, hiIncl bool
}

// side is one range operator: a lower or upper bound.
type side struct {
	lower, incl bool
	v           any
}

// tighten narrows the resolved range with one side.
func (b *bound) tighten(s side) {
	if s.lower {
		c := value.Compare(s.v, b.lo)
		if !b.hasLo || c > 0 || (c == 0 && !s.incl) {
			b.lo, b.loIncl, b.hasLo = s.v, s.incl, true
		}
		return
	}
	c := value.Compare(s.v, b.hi)
	if !b.hasHi || c < 0 || (c == 0 && !s.incl) {
		b.hi, b.hiIncl, b.hasHi = s.v, s.incl, true
	}
}

// resolve returns the bound an index scan can use. When the field may hold arrays
// (multikey), different elements can satisfy different operators, so only one operator's
// bounds apply: its first point set, or else one side of the range. Otherwise the point
// sets intersect and the range keeps both sides.
func (b *bound) resolve(multikey bool) *bound {
	if b.unusable || (b.pointSets == nil && b.sides == nil) {
		return nil
	}
	r := &bound{nullish: b.nullish}
	switch {
	case b.pointSets != nil:
		r.points = b.pointSets[0]
		if !multikey {
			for _, set := range b.pointSets[1:] {
				r.points = intersect(r.points, set)
			}
		}
	case multikey:
		r.tighten(b.sides[0])
	default:
		for _, s := range b.sides {
			r.tighten(s)
		}
	}
	return r
}

func intersect(a, b []any) []any {
	out := []any{}
	for _, p := range a {
		for _, q := range b {
			if value.Compare(p, q) == 0 {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// contains reports whether an index key value can satisfy a resolved bound.
func (b *bound) contains(v any) bool {
	if b.points != nil {
		for _, p := range b.points {
			if value.Compare(p, v) == 0 {
				return true
			}
		}
		return false
	}
	ref := b.lo
	if !b.hasLo {
		ref = b.hi
	}
	if !value.SameBracket(ref, v) {
		return false
	}
	if b.hasLo {
		if c := value.Compare(v, b.lo); c < 0 || (c == 0 && !b.loIncl) {
			return false
		}
	}
	if b.hasHi {
		if c := value.Compare(v, b.hi); c > 0 || (c == 0 && !b.hiIncl) {
			return false
		}
	}
	return true
}

// predicates extracts per-field bounds from the top level of a filter and its $and.
func predicates(filter bson.D, out map[string]*bound) {
	for _, e := range filter {
		if e.Key == "$and" {
			if arr, ok := e.Value.(bson.A); ok {
				for _, sub := range arr {
					if d, ok := sub.(bson.D); ok {
						predicates(d, out)
					}
				}
			}
			continue
		}
		if strings.HasPrefix(e.Key, "$") {
			continue
		}
		b := out[e.Key]
		if b == nil {
			b = &bound{}
			out[e.Key] = b
		}
		addCondition(b, e.Value)
	}
}

func isOperatorDoc(v any) (bson.D, bool) {
	d, ok := v.(bson.D)
	return d, ok && len(d) > 0 && strings.HasPrefix(d[0].Key, "$")
}

func addCondition(b *bound, v any) {
	ops, isOps := isOperatorDoc(v)
	if !isOps {
		addPoint(b, v)
		return
	}
	var regexOpts string
	for _, op := range ops {
		if op.Key == "$options" {
			regexOpts, _ = op.Value.(string)
		}
	}
	for _, op := range ops {
		switch op.Key {
		case "$eq":
			addPoint(b, op.Value)
		case "$in":
			arr, ok := op.Value.(bson.A)
			if !ok {
				b.unusable = true
				continue
			}
			pts := []any{}
			for _, x := range arr {
				switch x.(type) {
				case bson.A, bson.Regex:
					b.unusable = true
				case nil:
					b.nullish = true
				}
				pts = append(pts, x)
			}
			b.pointSets = append(b.pointSets, pts)
		case "$gt", "$gte":
			addRange(b, op.Value, true, op.Key == "$gte")
		case "$lt", "$lte":
			addRange(b, op.Value, false, op.Key == "$lte")
		case "$regex":
			re, ok := op.Value.(bson.Regex)
			if !ok {
				s, isStr := op.Value.(string)
				if !isStr {
					continue
				}
				re = bson.Regex{Pattern: s}
			}
			if regexOpts != "" {
				re.Options = regexOpts
			}
			addRegex(b, re)
		}
	}
}

func addPoint(b *bound, v any) {
	switch x := v.(type) {
	case bson.A:
		b.unusable = true // array equality also matches nested arrays; not worth bounding
		return
	case bson.Regex:
		addRegex(b, x)
		return
	case nil:
		b.nullish = true
	}
	b.pointSets = append(b.pointSets, []any{v})
}

func addRange(b *bound, v any, lower, incl bool) {
	switch v.(type) {
	case bson.MinKey, bson.MaxKey, bson.A:
		b.unusable = true
		return
	case nil:
		b.nullish = true
	}
	if len(b.sides) > 0 && !value.SameBracket(b.sides[0].v, v) {
		b.unusable = true
		return
	}
	b.sides = append(b.sides, side{lower: lower, incl: incl, v: v})
}

// addRegex bounds a case-sensitive regex anchored with a literal prefix (^abc) to the
// string range [abc, abd).
func addRegex(b *bound, re bson.Regex) {
	if strings.ContainsAny(re.Options, "ix") {
		return
	}
	prefix, ok := literalPrefix(re.Pattern, strings.Contains(re.Options, "m"))
	if !ok || prefix == "" {
		return
	}
	addRange(b, prefix, true, true)
	if upper, ok := prefixUpperBound(prefix); ok {
		addRange(b, upper, false, false)
	}
}

// literalPrefix returns the literal text a pattern must start with when it is anchored at
// the start of the string.
func literalPrefix(pattern string, multiline bool) (string, bool) {
	if multiline || !strings.HasPrefix(pattern, "^") {
		return "", false
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return "", false
	}
	prefix, _ := prog.Prefix()
	return prefix, prog.StartCond()&syntax.EmptyBeginText != 0
}

func prefixUpperBound(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// choose picks the index and bounds for a query, or nil for a collection scan.
func (tx *Tx) choose(q *Query) (*Index, []*bound, error) {
	var hinted *Index
	if q.Hint != nil {
		if d, ok := q.Hint.(bson.D); ok && len(d) == 1 && d[0].Key == "$natural" {
			return nil, nil, nil // a collection scan in insertion order
		}
		var err error
		if hinted, err = tx.hintedIndex(q.Hint); err != nil {
			return nil, nil, err
		}
	}
	if len(q.Filter) == 0 {
		return nil, nil, nil
	}
	preds := map[string]*bound{}
	predicates(q.Filter, preds)
	var best *Index
	var bestBounds []*bound
	bestScore := 0
	for _, ix := range tx.c.indexes {
		if ix.partial != nil || ix.Spec.Hidden || (hinted != nil && ix != hinted) {
			continue
		}
		score, bounds := scoreIndex(ix, preds)
		if score > bestScore {
			best, bestBounds, bestScore = ix, bounds, score
		}
	}
	return best, bestBounds, nil
}

func scoreIndex(ix *Index, preds map[string]*bound) (int, []*bound) {
	bounds := make([]*bound, len(ix.fields))
	score := 0
	for i, f := range ix.fields {
		var b *bound
		if p := preds[f.whole]; p != nil && !(ix.Spec.Sparse && p.nullish) {
			b = p.resolve(ix.multikey)
		}
		if b == nil {
			if i == 0 {
				return 0, nil
			}
			continue
		}
		bounds[i] = b
		switch {
		case i > 0:
			score += 10
		case b.points != nil:
			score += 100
			if ix.Spec.Unique && len(ix.fields) == 1 {
				score += 50
			}
		default:
			score += 50
		}
	}
	return score, bounds
}

func (tx *Tx) hintedIndex(hint any) (*Index, error) {
	for _, ix := range tx.c.indexes {
		switch h := hint.(type) {
		case string:
			if ix.Spec.Name == h {
				return ix, nil
			}
		case bson.D:
			if value.Compare(ix.Spec.Key, h) == 0 {
				return ix, nil
			}
		}
	}
	return nil, mongoerr.Newf(mongoerr.BadValue, "error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index")
}

// scan visits the index entries whose first field falls in bounds[0], in index order,
// skipping entries whose other fields fall outside their bounds.
func (tx *Tx) scan(ix *Index, bounds []*bound, visit func(entry) bool) {
	first := bounds[0]
	keyOK := func(e entry) bool {
		for i := 1; i < len(bounds); i++ {
			if bounds[i] != nil && !bounds[i].contains(e.key[i]) {
				return false
			}
		}
		return true
	}
	if first.points != nil {
		pts := append([]any(nil), first.points...)
		sortValues(pts, ix.fields[0].desc)
		for i, p := range pts {
			if i > 0 && value.Compare(p, pts[i-1]) == 0 {
				continue
			}
			stop := false
			ix.tree.AscendGreaterOrEqual(entry{key: []any{p}}, func(e entry) bool {
				if value.Compare(e.key[0], p) != 0 {
					return false
				}
				if keyOK(e) && !visit(e) {
					stop = true
					return false
				}
				return true
			})
			if stop {
				return
			}
		}
		return
	}
	ref := first.lo
	if !first.hasLo {
		ref = first.hi
	}
	var start any
	if ix.fields[0].desc {
		start = value.NextBracketMin(ref)
		if first.hasHi {
			start = first.hi
		}
	} else {
		start = value.BracketMin(ref)
		if first.hasLo {
			start = first.lo
		}
	}
	desc := ix.fields[0].desc
	// before reports whether v comes ahead of the bound in index order, so the scan has
	// not reached it yet; any other value outside the bound means the scan is past it.
	before := func(v any) bool {
		if !value.SameBracket(v, ref) {
			if desc {
				return value.Compare(v, ref) > 0
			}
			return value.Compare(v, ref) < 0
		}
		if desc {
			c := value.Compare(v, first.hi)
			return first.hasHi && (c > 0 || c == 0 && !first.hiIncl)
		}
		c := value.Compare(v, first.lo)
		return first.hasLo && (c < 0 || c == 0 && !first.loIncl)
	}
	ix.tree.AscendGreaterOrEqual(entry{key: []any{start}}, func(e entry) bool {
		v := e.key[0]
		switch {
		case first.contains(v):
			return !keyOK(e) || visit(e)
		case before(v):
			return true
		}
		return false
	})
}

func sortValues(vals []any, desc bool) {
	for i := 1; i < len(vals); i++ {
		for j := i; j > 0; j-- {
			c := value.Compare(vals[j-1], vals[j])
			if desc {
				c = -c
			}
			if c <= 0 {
				break
			}
			vals[j-1], vals[j] = vals[j], vals[j-1]
		}
	}
}
