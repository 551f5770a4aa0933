from corpusgit.cli import main

main()
