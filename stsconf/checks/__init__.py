"""Pure checkers of StatefulSet properties, one module per subject: the declared forms, ordering,
pod management, identity, ordinals, ownership, the scale subresource, failed pods, storage,
claim retention, the data probe's reads, update order, node loss, and the lifecycle (its model
and each step). Functions over values they are given (timelines, API objects, what the suite
observed, the manifest), returning the problems they find; they import stsconf.model only."""
