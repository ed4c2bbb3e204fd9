"""Pure checkers of StatefulSet properties: the declared forms, pod management, claim retention,
storage, update order, node loss and the lifecycle model. Functions over values they are
given (timelines, API objects, the manifest); they import stsconf.model only."""
