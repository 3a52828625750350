// Package queryset is Django's QuerySet API for modjo models: typed, lazy, immutable
// queries that a compiler (package compiler) lowers to MongoDB commands, run through the
// official driver.
//
//	books := queryset.Objects[Book](db)                 // Book.objects
//	recent, err := books.
//		Filter(expr.Q{"title__icontains": "go", "year__gte": 2020}).
//		Exclude(expr.Q{"author": "Anon"}).
//		OrderBy("-year", "title").
//		Limit(20).
//		All(ctx)
//	for b, err := range books.BatchSize(500).Iter(ctx) { … } // streaming
//	b, err := books.Get(ctx, expr.Q{"pk": id})          // ErrDoesNotExist, ErrMultipleObjectsReturned
//	n, err := books.Filter(expr.Q{"year__lt": 2000}).Update(ctx, expr.Set{"views": expr.F("views").Add(1)})
//	fmt.Println(books.Filter(expr.Q{"year": 2020}).MQL()) // the command that runs
//
// Chaining methods (Filter, Exclude, OrderBy, Reverse, Distinct, Limit, Offset, Slice,
// Only, Defer, None, Using, BatchSize) return a new QuerySet and never modify their
// receiver, so QuerySets can be shared between goroutines. Django's all() is not needed
// for that reason; All(ctx) evaluates. A chaining mistake is recorded and returned by
// the evaluating call.
//
// Evaluating methods (All, Iter, Get, First, Last, Earliest, Latest, Count, Exists,
// Contains, InBulk, Values, ValuesList, ValuesFlat, Create, GetOrCreate,
// UpdateOrCreate, BulkCreate, BulkUpdate, Update, Delete, Explain, RawAggregate) take a
// context first and return errors that name the model and wrap the cause: the
// sentinels of package model (ErrDoesNotExist, ErrMultipleObjectsReturned,
// ErrNotSupported, ErrIntegrity) for errors.Is, *model.FieldError for an unknown field
// or lookup, and the driver's error when there is one.
//
// Not offered: Django's select_for_update(), because MongoDB has no row locks (a
// multi-document transaction, or a single atomic update such as Update with expr.F or
// UpdateOrCreate, does that job), and extra(), which injects raw SQL (RawAggregate runs
// a raw pipeline instead).
//
// See docs/queries.md for the whole API and docs/lookups.md for lookups and what they
// compile to.
package queryset
