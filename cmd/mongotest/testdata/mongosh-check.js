// Run by main_test.go through mongosh against `mongotest`. Each print is checked.
const shop = db.getSiblingDB("shop");
shop.createCollection("items");
print("collections:", JSON.stringify(shop.getCollectionNames()));

const ins = shop.items.insertMany([
  { _id: 1, name: "pen", price: 2, tags: ["office"] },
  { _id: 2, name: "book", price: 12, tags: ["paper", "office"] },
  { _id: 3, name: "lamp", price: 30, tags: [] },
]);
print("inserted:", Object.keys(ins.insertedIds).length);

const found = shop.items.find({ price: { $gte: 5, $lt: 100 }, tags: { $size: 2 } }, { _id: 0, name: 1 }).toArray();
print("found:", JSON.stringify(found));
print("in:", shop.items.countDocuments({ name: { $in: ["pen", "lamp"] } }));
print("regex:", JSON.stringify(shop.items.find({ name: /^b/ }).toArray().map(d => d._id)));

const upd = shop.items.updateMany({ tags: "office" }, { $inc: { price: 1 }, $push: { tags: "sale" } });
print("updated:", upd.matchedCount, upd.modifiedCount);
print("after:", JSON.stringify(shop.items.findOne({ _id: 1 })));

shop.items.createIndex({ name: 1 }, { unique: true });
try {
  shop.items.insertOne({ name: "pen" });
  print("duplicate: accepted");
} catch (e) {
  print("duplicate:", e.code);
}
print("indexes:", JSON.stringify(shop.items.getIndexes().map(i => i.name)));

const del = shop.items.deleteOne({ price: { $gt: 20 } });
print("deleted:", del.deletedCount);
print("left:", shop.items.countDocuments({}));
