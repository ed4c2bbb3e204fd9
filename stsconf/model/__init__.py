"""The plain data everything else passes around: the manifest as read from the user's files
(its StatefulSet, Service, claim templates and the order to apply its objects), pod timelines
and the events they are built from, the data probe and what a command run in a pod gave back,
and expectations (failures that say what was expected and what was seen). The bottom layer:
pure, no cluster, imports nothing else of stsconf's."""
