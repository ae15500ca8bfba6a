"""The course's authoring, release and grading tools (for instructors and TAs).

python -m autograder --help
"""
