package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Query is the state of a QuerySet that the compiler lowers to MQL.
type Query struct {
	Meta       *model.Meta
	Where      expr.Condition // nil: every document
	Empty      bool           // QuerySet.None(): matches nothing
	Order      []any          // expr.Ordering or expr.Random{} terms (or "-field" strings); nil: the model's Options.Ordering
	ClearOrder bool           // OrderBy() with no terms: no ordering at all, not even the model's
	Reverse    bool           // QuerySet.Reverse(): every term reversed (nulls placement too)
	Offset     int64          // documents to skip
	Limit      int64          // 0: no limit
	Distinct   bool           // Distinct() without fields: distinct rows of Fields (Values/ValuesList), else distinct documents
	DistinctOn []string       // Distinct("a", "b"): one document per distinct combination, the first by Order
	Only       []string       // load only these fields (plus the pk)
	Defer      []string       // load every field but these
	Fields     []string       // Values/ValuesList selection ("__" paths into embedded documents allowed); nil: not a values query
	BatchSize  int32          // cursor batch size; 0: the server's default
}

// Kind is the kind of command a query compiles to.
type Kind int

// The command kinds.
const (
	Find Kind = iota + 1
	Aggregate
)

// String returns "find" or "aggregate".
func (k Kind) String() string {
	switch k {
	case Find:
		return "find"
	case Aggregate:
		return "aggregate"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Command is a compiled query: a find or aggregate command document, ready for
// Database.RunCommandCursor.
type Command struct {
	Kind       Kind
	Collection string
	// Doc is the exact command document: {find, filter, sort, projection, skip, limit,
	// batchSize} or {aggregate, pipeline, cursor: {batchSize}}. It is deterministic: the
	// same query always gives the same document.
	Doc bson.D
	// Loaded lists, with Only or Defer, the lookup names of the fields the projection
	// loads (for State.Deferred); nil when every field is loaded.
	Loaded []string
}

// String returns the command as relaxed extended JSON (what QuerySet.MQL shows).
func (c *Command) String() string {
	if c == nil {
		return "<nil>"
	}
	b, err := bson.MarshalExtJSON(c.Doc, false, false)
	if err != nil {
		return fmt.Sprintf("<unprintable command: %v>", err)
	}
	return string(b)
}

// CountKey is the field of the document a Count command returns that holds the count.
const CountKey = "n"

// check validates the parts of a query every command uses.
func check(q *Query) error {
	switch {
	case q == nil || q.Meta == nil:
		return errNoMeta
	case q.Meta.Embedded:
		return fmt.Errorf("modjo: %s is an embedded model: it has no collection to query", q.Meta.Name)
	case q.Offset < 0:
		return fmt.Errorf("modjo: %s: negative offset %d", q.Meta.Name, q.Offset)
	case q.Limit < 0:
		return fmt.Errorf("modjo: %s: negative limit %d", q.Meta.Name, q.Limit)
	case q.BatchSize < 0:
		return fmt.Errorf("modjo: %s: negative batch size %d", q.Meta.Name, q.BatchSize)
	}
	return nil
}

// terms resolves the ordering: the explicit terms, else none after OrderBy(), else the
// model's.
func (q *Query) terms() ([]orderTerm, error) {
	switch {
	case len(q.Order) > 0:
		return orderTerms(q.Meta, q.Order, q.Reverse)
	case q.ClearOrder:
		return nil, nil
	}
	return orderTerms(q.Meta, nil, q.Reverse)
}

// filter returns the query's filter, or nil for none.
func (q *Query) filter() (bson.D, error) {
	if q.Empty {
		return matchNothing(), nil
	}
	d, ok, err := condDoc(q.Meta, q.Where)
	if !ok {
		return nil, err
	}
	return d, nil
}

// selection is what a query loads: a projection, the loaded field names (Only/Defer),
// and for a values query the stored paths selected.
type selection struct {
	projection bson.D
	inclusion  bool
	loaded     []string
	paths      []string // Values paths, covered ones removed
}

func (q *Query) selection() (selection, error) {
	var s selection
	m := q.Meta
	if q.Fields != nil {
		if len(q.Fields) == 0 {
			return s, nil // Values() with no fields: every field
		}
		for _, name := range q.Fields {
			p, err := Resolve(m, name)
			if err != nil {
				return s, err
			}
			s.paths = append(s.paths, p.Stored)
		}
		s.paths = uncovered(s.paths)
		s.inclusion = true
		s.projection = make(bson.D, 0, len(s.paths)+1)
		withID := false
		for _, p := range s.paths {
			s.projection = append(s.projection, bson.E{Key: p, Value: int32(1)})
			withID = withID || p == "_id" || strings.HasPrefix(p, "_id.")
		}
		if !withID {
			s.projection = append(s.projection, bson.E{Key: "_id", Value: int32(0)})
		}
		return s, nil
	}
	if q.Only == nil && q.Defer == nil {
		return s, nil
	}
	load := map[*model.Field]bool{}
	if q.Only != nil {
		for _, name := range q.Only {
			f, err := topLevel(m, name, "Only")
			if err != nil {
				return s, err
			}
			load[f] = true
		}
	} else {
		for _, f := range m.Fields {
			load[f] = true
		}
	}
	for _, name := range q.Defer {
		f, err := topLevel(m, name, "Defer")
		if err != nil {
			return s, err
		}
		delete(load, f)
	}
	s.inclusion = q.Only != nil
	for _, f := range m.Fields {
		// The primary key (and a composite key's members, inside _id) is always loaded.
		if f.PrimaryKey || f == m.PK || load[f] {
			s.loaded = append(s.loaded, f.Name)
			if s.inclusion && !f.PrimaryKey {
				s.projection = append(s.projection, bson.E{Key: f.Path, Value: int32(1)})
			}
			continue
		}
		if !s.inclusion {
			s.projection = append(s.projection, bson.E{Key: f.Path, Value: int32(0)})
		}
	}
	if s.inclusion && len(s.projection) == 0 {
		s.projection = bson.D{{Key: "_id", Value: int32(1)}}
	}
	if s.loaded == nil {
		s.loaded = []string{}
	}
	return s, nil
}

// topLevel resolves a field of Only or Defer: a top-level field or "pk". Sub-fields of
// embedded documents are refused: the partly loaded document would be saved back whole.
func topLevel(m *model.Meta, name, method string) (*model.Field, error) {
	if strings.Contains(name, "__") {
		if _, err := Resolve(m, name); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %s(%q): only whole fields can be deferred (a sub-document is loaded and saved whole)", model.ErrNotSupported, m.Name, method, name)
	}
	return topField(m, name)
}

// uncovered drops duplicate paths and paths inside another selected path ("shop.city"
// when "shop" is selected): MongoDB refuses such projections.
func uncovered(paths []string) []string {
	out := paths[:0:0]
	for i, p := range paths {
		keep := true
		for j, o := range paths {
			if i != j && (strings.HasPrefix(p, o+".") || o == p && j < i) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// finalStage is the last pipeline stage: the projection (an exclusion also removes
// the helper keys; an inclusion drops them anyway), or $unset of the helpers.
func finalStage(s selection, helpers []string) bson.D {
	switch {
	case s.projection != nil && s.inclusion:
		return bson.D{{Key: "$project", Value: s.projection}}
	case s.projection != nil:
		p := s.projection
		for _, h := range helpers {
			p = append(p, bson.E{Key: h, Value: int32(0)})
		}
		return bson.D{{Key: "$project", Value: p}}
	case len(helpers) > 0:
		arr := make(bson.A, len(helpers))
		for i, h := range helpers {
			arr[i] = h
		}
		return bson.D{{Key: "$unset", Value: arr}}
	}
	return nil
}

func (q *Query) aggregate(pipeline bson.A) bson.D {
	cursor := bson.D{}
	if q.BatchSize > 0 {
		cursor = bson.D{{Key: "batchSize", Value: q.BatchSize}}
	}
	return bson.D{{Key: "aggregate", Value: q.Meta.Collection}, {Key: "pipeline", Value: pipeline}, {Key: "cursor", Value: cursor}}
}

func (q *Query) slice(pipeline bson.A) bson.A {
	if q.Offset > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$skip", Value: q.Offset}})
	}
	if q.Limit > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$limit", Value: q.Limit}})
	}
	return pipeline
}

// Select compiles the query's rows: a find command when a filter, sort, skip, limit and
// projection suffice, an aggregate command when stages are needed (random order, nulls
// placement, expression orderings, Distinct of values, DistinctOn).
func Select(q *Query) (*Command, error) {
	if err := check(q); err != nil {
		return nil, err
	}
	filter, err := q.filter()
	if err != nil {
		return nil, err
	}
	terms, err := q.terms()
	if err != nil {
		return nil, err
	}
	sel, err := q.selection()
	if err != nil {
		return nil, err
	}
	cmd := &Command{Collection: q.Meta.Collection, Loaded: sel.loaded}
	switch {
	case len(q.DistinctOn) > 0:
		cmd.Kind = Aggregate
		cmd.Doc, err = q.distinctOn(filter, terms, sel)
	case q.Distinct && len(sel.paths) > 0:
		cmd.Kind = Aggregate
		cmd.Doc, err = q.distinctRows(filter, terms, sel)
	case plainTerms(terms):
		cmd.Kind = Find
		cmd.Doc = q.find(filter, terms, sel.projection)
	default:
		cmd.Kind = Aggregate
		cmd.Doc = q.sorted(filter, terms, sel)
	}
	if err != nil {
		return nil, err
	}
	return cmd, nil
}

func plainTerms(terms []orderTerm) bool {
	for i := range terms {
		if !terms[i].plain() {
			return false
		}
	}
	return true
}

// find builds the find command.
func (q *Query) find(filter bson.D, terms []orderTerm, projection bson.D) bson.D {
	d := make(bson.D, 1, 7)
	d[0] = bson.E{Key: "find", Value: q.Meta.Collection}
	if filter != nil {
		d = append(d, bson.E{Key: "filter", Value: filter})
	}
	if len(terms) > 0 {
		sort := make(bson.D, len(terms))
		for i := range terms {
			sort[i] = bson.E{Key: terms[i].path, Value: terms[i].dir()}
		}
		d = append(d, bson.E{Key: "sort", Value: sort})
	}
	if projection != nil {
		d = append(d, bson.E{Key: "projection", Value: projection})
	}
	if q.Offset > 0 {
		d = append(d, bson.E{Key: "skip", Value: q.Offset})
	}
	if q.Limit > 0 {
		d = append(d, bson.E{Key: "limit", Value: q.Limit})
	}
	if q.BatchSize > 0 {
		d = append(d, bson.E{Key: "batchSize", Value: q.BatchSize})
	}
	return d
}

// termKey gives a term's sort key on the documents themselves: the stored path, or the
// helper key an $addFields computes.
func termKey(terms []orderTerm) func(int) (string, any) {
	return func(i int) (string, any) {
		if p := terms[i].path; p != "" {
			return p, "$" + p
		}
		return "", terms[i].value
	}
}

// sorted is an aggregate that sorts with helper keys.
func (q *Query) sorted(filter bson.D, terms []orderTerm, sel selection) bson.D {
	pipeline := make(bson.A, 0, 6)
	if filter != nil {
		pipeline = append(pipeline, bson.D{{Key: "$match", Value: filter}})
	}
	st := buildSort(terms, termKey(terms))
	if len(st.add) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$addFields", Value: st.add}})
	}
	if len(st.sort) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$sort", Value: st.sort}})
	}
	pipeline = q.slice(pipeline)
	if fin := finalStage(sel, st.helpers); fin != nil {
		pipeline = append(pipeline, fin)
	}
	return q.aggregate(pipeline)
}

// docKey is where $group keeps the first document of each group in DistinctOn.
const docKey = helperPrefix + "doc"

// distinctKey is the $group key of DistinctOn: the named fields, null and missing alike
// (SQL's DISTINCT treats NULLs as equal).
func (q *Query) distinctKey() (bson.D, error) {
	key := make(bson.D, 0, len(q.DistinctOn))
	for i, name := range q.DistinctOn {
		p, err := Resolve(q.Meta, name)
		if err != nil {
			return nil, err
		}
		key = append(key, bson.E{Key: "d" + strconv.Itoa(i), Value: ifNull("$" + p.Stored)})
	}
	return key, nil
}

func ifNull(x any) bson.D { return bson.D{{Key: "$ifNull", Value: bson.A{x, nil}}} }

// distinctOn keeps the first document (by the ordering) of each distinct combination of
// the DistinctOn fields, then orders, slices and projects those.
func (q *Query) distinctOn(filter bson.D, terms []orderTerm, sel selection) (bson.D, error) {
	key, err := q.distinctKey()
	if err != nil {
		return nil, err
	}
	pipeline := make(bson.A, 0, 9)
	if filter != nil {
		pipeline = append(pipeline, bson.D{{Key: "$match", Value: filter}})
	}
	st := buildSort(terms, termKey(terms))
	if len(st.add) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$addFields", Value: st.add}})
	}
	if len(st.sort) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$sort", Value: st.sort}})
	}
	pipeline = append(pipeline,
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: key}, {Key: docKey, Value: bson.D{{Key: "$first", Value: "$$ROOT"}}}}}},
		bson.D{{Key: "$replaceWith", Value: "$" + docKey}})
	if len(st.sort) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$sort", Value: st.sort}})
	}
	pipeline = q.slice(pipeline)
	if fin := finalStage(sel, st.helpers); fin != nil {
		pipeline = append(pipeline, fin)
	}
	return q.aggregate(pipeline), nil
}

// rowsKey is the $group key of distinct values rows: the selected paths (f0, f1, …) and,
// as Django adds ordering columns to SELECT DISTINCT, the ordering's values (o0, …). It
// returns the sort key function over the grouped documents.
func rowsKey(terms []orderTerm, paths []string) (bson.D, func(int) (string, any)) {
	key := make(bson.D, 0, len(paths)+len(terms))
	for i, p := range paths {
		key = append(key, bson.E{Key: "f" + strconv.Itoa(i), Value: ifNull("$" + p)})
	}
	names := make([]string, len(terms))
	for i := range terms {
		t := &terms[i]
		if t.random {
			continue
		}
		if t.path != "" {
			if k := indexOf(paths, t.path); k >= 0 {
				names[i] = "_id.f" + strconv.Itoa(k)
				continue
			}
		}
		v := t.value
		if t.path != "" {
			v = "$" + t.path
		}
		k := "o" + strconv.Itoa(i)
		key = append(key, bson.E{Key: k, Value: ifNull(v)})
		names[i] = "_id." + k
	}
	return key, func(i int) (string, any) { return names[i], "$" + names[i] }
}

func indexOf(s []string, x string) int {
	for i, y := range s {
		if y == x {
			return i
		}
	}
	return -1
}

// distinctRows groups the selected values, orders and slices the groups, and rebuilds
// each row with the selected paths.
func (q *Query) distinctRows(filter bson.D, terms []orderTerm, sel selection) (bson.D, error) {
	key, sortKey := rowsKey(terms, sel.paths)
	pipeline := make(bson.A, 0, 8)
	if filter != nil {
		pipeline = append(pipeline, bson.D{{Key: "$match", Value: filter}})
	}
	pipeline = append(pipeline, bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: key}}}})
	st := buildSort(terms, sortKey)
	if len(st.add) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$addFields", Value: st.add}})
	}
	if len(st.sort) > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$sort", Value: st.sort}})
	}
	pipeline = q.slice(pipeline)
	row := bson.D{}
	for i, p := range sel.paths {
		row = setPath(row, strings.Split(p, "."), "$_id.f"+strconv.Itoa(i))
	}
	pipeline = append(pipeline, bson.D{{Key: "$replaceWith", Value: row}})
	return q.aggregate(pipeline), nil
}

// setPath sets a dotted path in a nested expression object.
func setPath(d bson.D, parts []string, v any) bson.D {
	for i := range d {
		if d[i].Key == parts[0] {
			if len(parts) > 1 {
				sub, _ := d[i].Value.(bson.D)
				d[i].Value = setPath(sub, parts[1:], v)
			}
			return d
		}
	}
	if len(parts) == 1 {
		return append(d, bson.E{Key: parts[0], Value: v})
	}
	return append(d, bson.E{Key: parts[0], Value: setPath(bson.D{}, parts[1:], v)})
}

// Count compiles the number of rows Select returns: an aggregate of $match, $skip and
// $limit when sliced, then {$count: "n"} — never $group over the whole collection
// (distinct rows group first). The result has one document {n: <count>}, or none when
// the count is zero.
func Count(q *Query) (*Command, error) {
	if err := check(q); err != nil {
		return nil, err
	}
	filter, err := q.filter()
	if err != nil {
		return nil, err
	}
	pipeline := make(bson.A, 0, 5)
	if filter != nil {
		pipeline = append(pipeline, bson.D{{Key: "$match", Value: filter}})
	}
	group, err := q.groupForCount()
	if err != nil {
		return nil, err
	}
	if group != nil {
		pipeline = append(pipeline, group)
	}
	pipeline = q.slice(pipeline)
	pipeline = append(pipeline, bson.D{{Key: "$count", Value: CountKey}})
	return &Command{Kind: Aggregate, Collection: q.Meta.Collection, Doc: q.aggregate(pipeline)}, nil
}

// groupForCount is the $group stage that makes rows distinct, or nil.
func (q *Query) groupForCount() (bson.D, error) {
	if len(q.DistinctOn) > 0 {
		key, err := q.distinctKey()
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: key}}}}, nil
	}
	if !q.Distinct || len(q.Fields) == 0 {
		return nil, nil
	}
	sel, err := q.selection()
	if err != nil {
		return nil, err
	}
	terms, err := q.terms()
	if err != nil {
		return nil, err
	}
	key, _ := rowsKey(terms, sel.paths)
	return bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: key}}}}, nil
}

// Exists compiles whether Select would return any row: a find with limit 1 and
// projection {_id: 1} (an aggregate when distinct rows are sliced, since the offset
// then counts groups).
func Exists(q *Query) (*Command, error) {
	if err := check(q); err != nil {
		return nil, err
	}
	filter, err := q.filter()
	if err != nil {
		return nil, err
	}
	if q.Offset > 0 {
		group, err := q.groupForCount()
		if err != nil {
			return nil, err
		}
		if group != nil {
			pipeline := bson.A{}
			if filter != nil {
				pipeline = append(pipeline, bson.D{{Key: "$match", Value: filter}})
			}
			pipeline = append(pipeline, group, bson.D{{Key: "$skip", Value: q.Offset}}, bson.D{{Key: "$limit", Value: int64(1)}})
			return &Command{Kind: Aggregate, Collection: q.Meta.Collection, Doc: q.aggregate(pipeline)}, nil
		}
	}
	d := bson.D{{Key: "find", Value: q.Meta.Collection}}
	if filter != nil {
		d = append(d, bson.E{Key: "filter", Value: filter})
	}
	d = append(d, bson.E{Key: "projection", Value: bson.D{{Key: "_id", Value: int32(1)}}})
	if q.Offset > 0 {
		d = append(d, bson.E{Key: "skip", Value: q.Offset})
	}
	d = append(d, bson.E{Key: "limit", Value: int64(1)})
	return &Command{Kind: Find, Collection: q.Meta.Collection, Doc: d}, nil
}
